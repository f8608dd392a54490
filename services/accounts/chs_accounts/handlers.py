"""Command handlers of the HTTP API and of the ledger's consumer. Each runs in its unit of work
(the consumer's is passed on: entered again, it nests), takes the person's lock and the account's
row (``select … for update``), asks the ``Account`` for the change, saves what it returned and
records its event in the outbox.

A posting is keyed by its transaction id: the window's idempotency key in the clients' namespace
(``model.client_posting``: ``client:<merchant>:<key>``), or for the consumer's postings a
deterministic id of the event (``model.contribution_posting``, …), so a redelivered event posts
nothing and no client key can ever stand for one of the ledger's own postings.
"""

import logging
from dataclasses import dataclass

import asyncpg
import uuid6

from chs_accounts import domain, repository
from chs_accounts.allocation import AllocationRule, age_on
from chs_accounts.commands import (
    AuthorizeFamilyMember,
    CreditContribution,
    DebitAccount,
    OpenAccount,
    RevokeFamilyMember,
    TransferAccountIn,
    TransferAccountOut,
    TransferAccountWithin,
    WithdrawToHeirs,
)
from chs_accounts.model import (
    CLOSED,
    TRANSFERRED_OUT,
    Account,
    FamilyMember,
    LedgerTransaction,
    client_posting,
    contribution_posting,
    transfer_in_posting,
    transfer_out_posting,
    transfer_within_posting,
    withdrawal_posting,
)
from chs_events.clock import now, today
from chs_events.locks import lock_person
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA

log = logging.getLogger(__name__)


async def _locked(conn: asyncpg.Connection, person_id: str) -> Account | None:
    await lock_person(conn, person_id)
    return await repository.get_account(conn, person_id, for_update=True)


async def locked_account(conn: asyncpg.Connection, person_id: str) -> Account:
    """The person's account under the person's lock; NoAccount when there is none."""
    account = await _locked(conn, person_id)
    if account is None:
        raise domain.NoAccount(person_id, await repository.is_resident(conn, person_id))
    return account


async def _posted(conn: asyncpg.Connection, transaction_id: str) -> bool:
    return await repository.get_transaction(conn, transaction_id) is not None


# --- the API -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Debit:
    transaction: LedgerTransaction
    created: bool  # False: the idempotency key was posted before; this is its result


def debit_fingerprint(command: DebitAccount) -> str:
    return domain.request_hash(
        command.person_id,
        command.merchant_code,
        command.merchant_kind,
        command.amount_fen,
        command.spender_person_id,
    )


async def handle_debit(uow: UnitOfWork, command: DebitAccount) -> Debit:
    """→ AccountDebited with the balance after; the same transaction id again posts nothing."""
    fingerprint = debit_fingerprint(command)
    async with uow:
        conn = uow.conn
        account = await locked_account(conn, command.person_id)
        posted = await repository.get_transaction(
            conn, client_posting(command.merchant_code, command.transaction_id)
        )
        if posted is not None:
            return Debit(domain.same_request(posted, fingerprint), created=False)
        account, transaction, debited = account.debit(
            await repository.family_of(conn, account.account_id),
            command.transaction_id,
            command.amount_fen,
            command.merchant_code,
            command.merchant_kind,
            command.spender_person_id,
            now(),
            fingerprint,
        )
        await repository.save_posting_recording(uow, account, transaction, debited)
    return Debit(transaction, created=True)


async def handle_authorize(
    uow: UnitOfWork, command: AuthorizeFamilyMember
) -> tuple[FamilyMember, bool]:
    """→ FamilyMemberAuthorized; authorizing the same member again changes nothing."""
    async with uow:
        conn = uow.conn
        account = await locked_account(conn, command.person_id)
        member, authorized = account.authorize(
            await repository.family_of(conn, account.account_id),
            command.member_person_id,
            command.relation,
            today(),
        )
        if authorized is None:
            return member, False
        await repository.authorize(conn, member)
        await uow.record(authorized)
    return member, True


async def handle_revoke(uow: UnitOfWork, command: RevokeFamilyMember) -> None:
    """→ FamilyMemberRevoked; FamilyMemberNotFound when the member is not authorized."""
    async with uow:
        conn = uow.conn
        account = await locked_account(conn, command.person_id)
        member, revoked = account.revoke(
            await repository.family_of(conn, account.account_id),
            command.member_person_id,
            today(),
        )
        await repository.revoke(conn, member, revoked.revoked_on)
        await uow.record(revoked)


# --- the ledger's consumer ---------------------------------------------------------------------


async def handle_open(uow: UnitOfWork, command: OpenAccount) -> Account | None:
    """→ AccountOpened; None when the person has an account already."""
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        account, opened = Account.open(
            str(uuid6.uuid7()),
            command.person_id,
            command.enrollment_id,
            command.pooling_region,
            command.opened_on,
        )
        if not await repository.insert_account(conn, account):
            log.info(
                "the person has a personal account already",
                extra={"enrollment_id": command.enrollment_id},
            )
            return None
        await uow.record(opened)
    return account


async def handle_credit(
    uow: UnitOfWork, command: CreditContribution, *, rule: AllocationRule
) -> None:
    """→ AccountCredited by the allocation rule (nothing when its share is 0). On an account a
    transfer out of the province closed before the contribution arrived: credited and forwarded
    after that transfer (AccountCredited, AccountTransferredOut)."""
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        state = await repository.credit_state(
            conn, command.person_id, contribution_posting(command.payment_id)
        )
        if state.account is None:
            raise domain.NoAccount(
                command.person_id, await repository.is_resident(conn, command.person_id)
            )
        if state.posted:
            return
        account, birth_date = state.account, state.birth_date
        paid_on = command.paid_at.astimezone(CHINA).date()
        amount = rule.credit_fen(
            command.personal_part_fen, command.employer_part_fen, age_on(birth_date, paid_on)
        )
        if amount == 0:
            return
        if account.status == CLOSED and account.closed_reason == TRANSFERRED_OUT:
            closing = await repository.closing_transfer_out(conn, account.account_id)
            if closing is None:
                raise domain.AccountClosed(account)
            account, (credit, forward), credited, forwarded = account.credit_and_forward(
                closing,
                command.payment_id,
                amount,
                command.paid_at,
                period=command.period,
                rule_id=rule.rule_id,
            )
            await repository.insert_transaction(conn, credit)
            await repository.save_posting(conn, account, forward)
            await uow.record(credited, forwarded)
            return
        account, transaction, credited = account.credit(
            command.payment_id, amount, command.paid_at, period=command.period, rule_id=rule.rule_id
        )
        await repository.save_posting_recording(uow, account, transaction, credited)


async def handle_withdraw(uow: UnitOfWork, command: WithdrawToHeirs) -> None:
    """→ AccountWithdrawn, the account closed; an account closed already pays nothing. Without
    an ``enrollment_id`` (a death verified after the holder left the employer, so no enrollment
    ended with it) an account still open is withdrawn under its own enrollment, and a person
    without one has nothing to withdraw."""
    async with uow:
        conn = uow.conn
        if command.enrollment_id is None:
            found = await _locked(conn, command.person_id)
            if found is None or found.status == CLOSED:
                return
            account, enrollment_id = found, found.enrollment_id
        else:
            account = await locked_account(conn, command.person_id)
            enrollment_id = command.enrollment_id
        if await _posted(conn, withdrawal_posting(enrollment_id)):
            return
        try:
            account, transaction, withdrawn = account.withdraw(
                enrollment_id, command.at, command.died_on
            )
        except domain.AccountClosed:
            log.warning(
                "death of a person whose account is closed already: nothing to withdraw",
                extra={"account_id": account.account_id},
            )
            return
        await repository.save_posting_recording(uow, account, transaction, withdrawn)


async def handle_transfer_within(uow: UnitOfWork, command: TransferAccountWithin) -> None:
    """→ AccountTransferredWithin: the whole balance the ledger holds moves to the new region,
    the same account re-homed. A person without an account: nothing; a closed one (its balance
    left the province before): re-homed, no money moves."""
    async with uow:
        conn = uow.conn
        account = await _locked(conn, command.person_id)
        if account is None or await _posted(conn, transfer_within_posting(command.transfer_id)):
            return
        if account.status == CLOSED:
            await repository.update_account(
                conn, account.rehome(command.enrollment_id, command.to_region)
            )
            return
        account, transaction, moved = account.transfer_within(
            command.transfer_id, command.enrollment_id, command.to_region, command.at
        )
        await repository.save_posting_recording(uow, account, transaction, moved)


async def handle_transfer_out(uow: UnitOfWork, command: TransferAccountOut) -> None:
    """→ AccountTransferredOut, the account closed."""
    async with uow:
        conn = uow.conn
        account = await locked_account(conn, command.person_id)
        if await _posted(conn, transfer_out_posting(command.transfer_id)):
            return
        account, transaction, transferred = account.transfer_out(
            command.transfer_id, command.to_region, command.at, command.completed_on
        )
        await repository.save_posting_recording(uow, account, transaction, transferred)


async def handle_transfer_in(uow: UnitOfWork, command: TransferAccountIn) -> None:
    """→ (AccountOpened for a person without an account,) AccountTransferredIn of the balance
    the national transfer platform confirmed."""
    async with uow:
        conn = uow.conn
        account = await _locked(conn, command.person_id)
        if await _posted(conn, transfer_in_posting(command.transfer_id)):
            return
        if account is None:
            account, opened = Account.open(
                str(uuid6.uuid7()),
                command.person_id,
                command.enrollment_id,
                command.to_region,
                command.completed_on,
            )
            await repository.insert_account(conn, account)
            await uow.record(opened)
        account, transaction, transferred = account.transfer_in(
            command.transfer_id,
            command.enrollment_id,
            command.from_region,
            command.to_region,
            command.confirmed_balance_fen,
            command.at,
            platform_reference=command.platform_reference,
            entered_by=command.confirmed_by,
        )
        await repository.save_posting_recording(uow, account, transaction, transferred)
