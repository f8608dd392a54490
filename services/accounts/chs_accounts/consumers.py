"""The accounts service's consumer (``accounts-ledger``) of ``chs.enrollment.events`` and
``chs.transfer.events``:

- PersonRegistered → the birth date (the allocation rule's age band);
- EnrollmentRegistered 310 → open the person's account (AccountOpened); 390 → a resident, who
  has no account;
- ContributionPaid 310 → credit by the allocation rule (AccountCredited); 390 → nothing;
- EnrollmentTerminated 310 with reason "death" → the lump-sum withdrawal to the heirs, closing
  the account (AccountWithdrawn);
- TransferCompleted across provinces: out of the province → the balance moves out to transfer
  clearing and the account closes (AccountTransferredOut); into the province → the out-region's
  stated balance arrives from transfer clearing and the person's account (re)opens, pooling in
  the new region (AccountTransferredIn). Within the province the same account is re-homed (it is
  usable province-wide): no money moves, no event.

Each handler runs in one transaction with the consumer's inbox claim, locks the account's row,
and keys its posting by a deterministic transaction id, so a redelivered event posts nothing.
"""
import logging
from collections.abc import Mapping
from dataclasses import replace

import asyncpg
import uuid6

from chs_events import outbox
from chs_events.clock import CHINA
from chs_events.processing import PermanentError
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountOpened,
    AccountTransferredIn,
    AccountTransferredOut,
    AccountWithdrawn,
)
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PersonRegistered,
)
from chs_events.events.transfer import TransferCompleted
from chs_events.topics import ENROLLMENT_EVENTS, TRANSFER_EVENTS

from chs_accounts import domain, repository
from chs_accounts.allocation import AllocationRule, age_on, load_rule
from chs_accounts.handlers import SOURCE
from chs_accounts.model import (
    EMPLOYEE,
    FUND_ALLOCATION,
    OPEN,
    RESIDENT,
    TRANSFER_CLEARING,
    Account,
    heirs,
)
from chs_accounts.settings import AccountsSettings

log = logging.getLogger(__name__)

LEDGER_CONSUMER = "accounts-ledger"
LEDGER_TOPICS = [ENROLLMENT_EVENTS, TRANSFER_EVENTS]


async def _locked(conn: asyncpg.Connection, person_id: str) -> Account:
    account = await repository.get_account(conn, person_id, lock=True)
    if account is None:
        raise PermanentError(f"person {person_id} has no personal account")
    return account


async def _emit(conn: asyncpg.Connection, source: Envelope, event) -> None:
    await outbox.record(conn, source.caused(event, source=SOURCE))


async def on_person_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonRegistered)
    await repository.upsert_person(conn, event.person_id, birth_date=event.birth_date)


async def on_enrollment_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    if event.insutype != EMPLOYEE:
        await repository.upsert_person(conn, event.person_id, resident=event.insutype == RESIDENT)
        return
    await repository.upsert_person(conn, event.person_id, resident=False)
    account = Account(str(uuid6.uuid7()), event.person_id, event.enrollment_id,
                      event.pooling_region, OPEN, 0, event.start_date)
    if not await repository.insert_account(conn, account):
        log.info("the person has a personal account already",
                 extra={"event_id": envelope.id, "enrollment_id": event.enrollment_id})
        return
    await _emit(conn, envelope, AccountOpened(
        person_id=account.person_id, account_id=account.account_id,
        enrollment_id=account.enrollment_id, pooling_region=account.pooling_region,
        opened_on=account.opened_on))


def contribution_handler(rule: AllocationRule):
    async def on_contribution_paid(conn: asyncpg.Connection, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ContributionPaid)
        if event.insutype != EMPLOYEE:
            return  # residents have no personal account
        account = await _locked(conn, event.person_id)
        transaction_id = f"contribution:{event.payment_id}"
        if await repository.get_transaction(conn, transaction_id) is not None:
            return
        paid_on = event.paid_at.astimezone(CHINA).date()
        amount = rule.credit_fen(event.personal_part_fen, event.employer_part_fen,
                                 age_on(await repository.birth_date_of(conn, event.person_id),
                                        paid_on))
        if amount == 0:
            return
        try:
            account, transaction = domain.credit(account, transaction_id, amount,
                                                 FUND_ALLOCATION, event.paid_at,
                                                 reference=event.payment_id)
        except domain.AccountClosed as closed:
            raise PermanentError(closed.detail) from None
        await repository.insert_transaction(conn, transaction)
        await repository.update_account(conn, account)
        await _emit(conn, envelope, AccountCredited(
            person_id=account.person_id, account_id=account.account_id,
            transaction_id=transaction_id, amount_fen=amount,
            balance_after_fen=account.balance_fen, posted_at=transaction.posted_at,
            payment_id=event.payment_id, period=event.period, rule_id=rule.rule_id))

    return on_contribution_paid


async def on_enrollment_terminated(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentTerminated)
    if event.insutype != EMPLOYEE or event.reason != "death":
        return  # the balance stays with a living person who left an employer
    account = await _locked(conn, event.person_id)
    transaction_id = f"withdrawal:{event.enrollment_id}"
    if await repository.get_transaction(conn, transaction_id) is not None:
        return
    if account.status != OPEN:
        log.warning("death of a person whose account is closed already: nothing to withdraw",
                    extra={"event_id": envelope.id, "account_id": account.account_id})
        return
    account, transaction = domain.close_out(account, transaction_id, "withdrawal",
                                            heirs(account.account_id), envelope.time,
                                            "death", event.end_date)
    await repository.insert_transaction(conn, transaction)
    await repository.update_account(conn, account)
    await _emit(conn, envelope, AccountWithdrawn(
        person_id=account.person_id, account_id=account.account_id,
        transaction_id=transaction_id, amount_fen=transaction.amount_fen, balance_after_fen=0,
        posted_at=transaction.posted_at, closed_on=event.end_date))


def transfer_handler(home_province: str):
    async def on_transfer_completed(conn: asyncpg.Connection, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, TransferCompleted)
        direction = domain.transfer_direction(event.from_region, event.to_region, home_province)
        account = await repository.get_account(conn, event.person_id, lock=True)
        if direction == "within":
            if account is not None:
                await repository.update_account(conn, replace(
                    account, enrollment_id=event.enrollment_id, pooling_region=event.to_region))
            return
        transaction_id = f"transfer-{direction}:{event.transfer_id}"
        if await repository.get_transaction(conn, transaction_id) is not None:
            return
        if direction == "out":
            if account is None:
                raise PermanentError(f"person {event.person_id} has no personal account")
            account, transaction = domain.close_out(
                account, transaction_id, "transfer_out", TRANSFER_CLEARING, envelope.time,
                "transferred_out", event.completed_on, reference=event.transfer_id)
            await repository.insert_transaction(conn, transaction)
            await repository.update_account(conn, account)
            await _emit(conn, envelope, AccountTransferredOut(
                person_id=account.person_id, account_id=account.account_id,
                transaction_id=transaction_id, amount_fen=transaction.amount_fen,
                balance_after_fen=0, posted_at=transaction.posted_at,
                transfer_id=event.transfer_id, to_region=event.to_region))
            return
        if account is None:
            account = Account(str(uuid6.uuid7()), event.person_id, event.enrollment_id,
                              event.to_region, OPEN, 0, event.completed_on)
            await repository.insert_account(conn, account)
            await _emit(conn, envelope, AccountOpened(
                person_id=account.person_id, account_id=account.account_id,
                enrollment_id=account.enrollment_id, pooling_region=account.pooling_region,
                opened_on=account.opened_on))
        account = replace(account, status=OPEN, closed_reason=None, closed_on=None,
                          enrollment_id=event.enrollment_id, pooling_region=event.to_region)
        account, transaction = domain.credit(account, transaction_id, event.account_balance_fen,
                                             TRANSFER_CLEARING, envelope.time,
                                             reference=event.transfer_id)
        transaction = replace(transaction, kind="transfer_in")
        await repository.insert_transaction(conn, transaction)
        await repository.update_account(conn, account)
        await _emit(conn, envelope, AccountTransferredIn(
            person_id=account.person_id, account_id=account.account_id,
            transaction_id=transaction_id, amount_fen=transaction.amount_fen,
            balance_after_fen=account.balance_fen, posted_at=transaction.posted_at,
            transfer_id=event.transfer_id, from_region=event.from_region,
            to_region=event.to_region))

    return on_transfer_completed


def ledger_handlers(settings: AccountsSettings, rule: AllocationRule | None = None) -> Mapping:
    """The consumer's handlers; the allocation rule is loaded (and validated) here."""
    rule = rule or load_rule(settings.account_allocation_rule)
    return {
        PersonRegistered.ce_type: on_person_registered,
        EnrollmentRegistered.ce_type: on_enrollment_registered,
        ContributionPaid.ce_type: contribution_handler(rule),
        EnrollmentTerminated.ce_type: on_enrollment_terminated,
        TransferCompleted.ce_type: transfer_handler(settings.home_province),
    }
