"""The accounts service's consumer (``accounts-ledger``) of ``chs.enrollment.events`` and
``chs.transfer.events``: each event becomes a command of ``handlers`` (or an update of what the
service knows of a person), run in the consumer's unit of work (with its inbox claim):

- PersonRegistered → the birth date (the allocation rule's age band);
- EnrollmentRegistered 310 → OpenAccount (AccountOpened); 390 → a resident, who has no account;
- ContributionPaid 310 → CreditContribution by the allocation rule (AccountCredited); 390 →
  nothing;
- EnrollmentTerminated 310 with reason "death" → WithdrawToHeirs, closing the account
  (AccountWithdrawn); PersonDeceased → the same for an account still open when no enrollment
  ended with the death (the holder had left the employer before; the withdrawal is once either
  way, keyed by the account's enrollment);
- TransferCompleted: out of the province → TransferAccountOut (the whole balance the ledger
  holds to transfer clearing, the account closes: AccountTransferredOut); into the province →
  TransferAccountIn (the balance the out-province confirmed through the national transfer
  platform, with its reference and the receiving region's staff who entered it, from transfer
  clearing; the account (re)opens in the new region: AccountTransferredIn); within the province →
  TransferAccountWithin (the whole balance moves to the new region with the same account, usable
  province-wide: AccountTransferredWithin). The transfer service records the amounts these
  events report; it never states one.
- TransferCompleted v1 (no longer produced): its caller-stated ``account_balance_fen`` is never
  credited. Into the province it is dead-lettered (PermanentError); otherwise it is applied as
  above, the ledger moving what it holds.
- A contribution that arrives after a transfer out closed the account is credited and forwarded
  after that transfer (``handlers.handle_credit``), not dead-lettered.

A domain error (e.g. a person without an account) dead-letters the event at once.
"""

from collections.abc import Mapping

from chs_accounts import domain, handlers, repository
from chs_accounts.allocation import AllocationRule, load_rule
from chs_accounts.commands import (
    CreditContribution,
    OpenAccount,
    TransferAccountIn,
    TransferAccountOut,
    TransferAccountWithin,
    WithdrawToHeirs,
)
from chs_accounts.settings import AccountsSettings
from chs_events.consumer import Handler, Subscription
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PersonDeceased,
    PersonRegistered,
)
from chs_events.events.transfer import TransferCompleted, TransferCompletedV1
from chs_events.processing import PermanentError
from chs_events.topics import ENROLLMENT_EVENTS, TRANSFER_EVENTS
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import EMPLOYEE, RESIDENT

LEDGER_CONSUMER = "accounts-ledger"
LEDGER_TOPICS = [ENROLLMENT_EVENTS, TRANSFER_EVENTS]


async def on_person_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonRegistered)
    await repository.upsert_person(uow.conn, event.person_id, birth_date=event.birth_date)


async def on_enrollment_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    await repository.upsert_person(uow.conn, event.person_id, resident=event.insutype == RESIDENT)
    if event.insutype == EMPLOYEE:
        await handlers.handle_open(
            uow,
            OpenAccount(
                event.person_id, event.enrollment_id, event.pooling_region, event.start_date
            ),
        )


def contribution_handler(rule: AllocationRule) -> Handler:
    async def on_contribution_paid(uow: UnitOfWork, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ContributionPaid)
        if event.insutype != EMPLOYEE:
            return  # residents have no personal account
        await handlers.handle_credit(
            uow,
            CreditContribution(
                event.person_id,
                event.payment_id,
                event.period,
                event.personal_part_fen,
                event.employer_part_fen,
                event.paid_at,
            ),
            rule=rule,
        )

    return on_contribution_paid


async def on_enrollment_terminated(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentTerminated)
    if event.insutype != EMPLOYEE or event.reason != "death":
        return  # the balance stays with a living person who left an employer
    await handlers.handle_withdraw(
        uow, WithdrawToHeirs(event.person_id, event.enrollment_id, event.end_date, envelope.time)
    )


async def on_person_deceased(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonDeceased)
    await handlers.handle_withdraw(
        uow, WithdrawToHeirs(event.person_id, None, event.date_of_death, envelope.time)
    )


def transfer_handler(home_province: str) -> Handler:
    async def on_transfer_completed(uow: UnitOfWork, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, TransferCompleted | TransferCompletedV1)
        direction = domain.transfer_direction(event.from_region, event.to_region, home_province)
        if direction == "within":
            await handlers.handle_transfer_within(
                uow,
                TransferAccountWithin(
                    event.person_id,
                    event.transfer_id,
                    event.enrollment_id,
                    event.to_region,
                    envelope.time,
                ),
            )
        elif direction == "out":
            await handlers.handle_transfer_out(
                uow,
                TransferAccountOut(
                    event.person_id,
                    event.transfer_id,
                    event.to_region,
                    event.completed_on,
                    envelope.time,
                ),
            )
        else:
            if (
                not isinstance(event, TransferCompleted)
                or event.confirmed_balance_fen is None
                or event.platform_reference is None
                or event.confirmed_by is None
            ):
                raise PermanentError(
                    f"transfer {event.transfer_id} into the province without the balance the "
                    "national transfer platform confirmed (its reference, the receiving region's "
                    "staff who entered it): nothing is credited"
                )
            await handlers.handle_transfer_in(
                uow,
                TransferAccountIn(
                    event.person_id,
                    event.transfer_id,
                    event.enrollment_id,
                    event.from_region,
                    event.to_region,
                    event.confirmed_balance_fen,
                    event.platform_reference,
                    event.confirmed_by,
                    event.completed_on,
                    envelope.time,
                ),
            )

    return on_transfer_completed


def ledger_handlers(
    settings: AccountsSettings, rule: AllocationRule | None = None
) -> Mapping[str, Handler]:
    """The consumer's handlers; the allocation rule is loaded (and validated) here."""
    rule = rule or load_rule(settings.account_allocation_rule)
    return {
        PersonRegistered.ce_type: on_person_registered,
        EnrollmentRegistered.ce_type: on_enrollment_registered,
        ContributionPaid.ce_type: contribution_handler(rule),
        EnrollmentTerminated.ce_type: on_enrollment_terminated,
        PersonDeceased.ce_type: on_person_deceased,
        TransferCompleted.ce_type: transfer_handler(settings.home_province),
        TransferCompletedV1.ce_type: transfer_handler(settings.home_province),
    }


def subscriptions(settings: AccountsSettings) -> list[Subscription]:
    return [Subscription(LEDGER_CONSUMER, LEDGER_TOPICS, ledger_handlers(settings))]
