"""Commands of the accounts service: what the API's callers and the ledger's consumer ask of
the personal account. The correlation id of the events they cause travels in the unit of work."""

from datetime import date, datetime

from chs_events.commands import Command
from chs_events.events.account import MerchantKind, Relation


class DebitAccount(Command):
    """A pharmacy or hospital window takes ``amount_fen`` from ``person_id``'s account, spent by
    the holder or an authorized family member; ``transaction_id`` is the window's idempotency
    key (posted in the clients' namespace, ``model.client_posting``)."""

    person_id: str
    transaction_id: str
    merchant_code: str
    merchant_kind: MerchantKind
    amount_fen: int
    spender_person_id: str


class AuthorizeFamilyMember(Command):
    person_id: str
    member_person_id: str
    relation: Relation


class RevokeFamilyMember(Command):
    person_id: str
    member_person_id: str


# --- from the ledger's consumer ------------------------------------------------------------------


class OpenAccount(Command):
    """An employee (310) enrollment: open the person's account (once)."""

    person_id: str
    enrollment_id: str
    pooling_region: str
    opened_on: date


class CreditContribution(Command):
    """An employee's contribution was paid: credit the allocation rule's share of it."""

    person_id: str
    payment_id: str
    period: str
    personal_part_fen: int
    employer_part_fen: int
    paid_at: datetime


class WithdrawToHeirs(Command):
    """The holder died: pay the whole balance to the heirs and close the account. The
    enrollment that ended with the death, or None when none did (the holder had left the
    employer before)."""

    person_id: str
    enrollment_id: str | None
    died_on: date
    at: datetime


class TransferAccountWithin(Command):
    """A transfer within the province: the balance the ledger holds moves to ``to_region`` with
    the same account (usable province-wide)."""

    person_id: str
    transfer_id: str
    enrollment_id: str
    to_region: str
    at: datetime


class TransferAccountOut(Command):
    """A cross-province transfer out of the province: the balance leaves, the account closes."""

    person_id: str
    transfer_id: str
    to_region: str
    completed_on: date
    at: datetime


class TransferAccountIn(Command):
    """A cross-province transfer into the province: the balance the out-province confirmed
    through the national transfer platform (its reference, the receiving region's staff who
    entered it) arrives and the person's account (re)opens in ``to_region``."""

    person_id: str
    transfer_id: str
    enrollment_id: str
    from_region: str
    to_region: str
    confirmed_balance_fen: int
    platform_reference: str
    confirmed_by: str
    completed_on: date
    at: datetime
