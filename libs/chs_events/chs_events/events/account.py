"""Events of the accounts service (职工医保个人账户), on ``chs.account.events``.

A personal account belongs to an employee (310); residents have none. Every movement of money is
one ledger transaction, idempotent by its ``transaction_id``, and its event carries the balance
after it (``balance_after_fen``), so a reader can check continuity: balance after = previous
balance ± amount. Money is integer fen.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import ACCOUNT_EVENTS

Relation = Literal["spouse", "child", "parent", "parent_in_law"]
MerchantKind = Literal["pharmacy", "hospital"]


class AccountEvent(Event):
    topic = ACCOUNT_EVENTS
    producer = "accounts"

    account_id: str


class AccountMovement(AccountEvent):
    transaction_id: str = Field(description="The posting's idempotency key")
    amount_fen: int = Field(ge=0)
    balance_after_fen: int = Field(ge=0, description="The account's balance after the posting")
    posted_at: datetime


@register
class AccountOpened(AccountEvent):
    """An employee (310) enrollment opened the person's personal account."""

    ce_type = "chs.account.opened.v1"
    enrollment_id: str
    pooling_region: str
    opened_on: date


@register
class AccountCredited(AccountMovement):
    """Income: the allocation rule's share of a contribution (划入)."""

    ce_type = "chs.account.credited.v1"
    source: Literal["contribution"] = "contribution"
    payment_id: str
    period: str = Field(pattern=r"^\d{4}(0[1-9]|1[0-2])$")
    rule_id: str = Field(description="The allocation rule that gave the amount")


@register
class AccountDebited(AccountMovement):
    """Expense at a pharmacy or hospital window, by the holder or an authorized family member."""

    ce_type = "chs.account.debited.v1"
    merchant_code: str
    merchant_kind: MerchantKind
    spender_person_id: str
    relation: Relation | None = Field(default=None, description="None when the holder spent it")


@register
class FamilyMemberAuthorized(AccountEvent):
    """家庭共济: the holder let a family member spend from the account."""

    ce_type = "chs.account.family-member.authorized.v1"
    member_person_id: str
    relation: Relation
    authorized_on: date


@register
class FamilyMemberRevoked(AccountEvent):
    ce_type = "chs.account.family-member.revoked.v1"
    member_person_id: str
    relation: Relation
    revoked_on: date


@register
class AccountTransferredOut(AccountMovement):
    """A cross-province transfer completed: the balance the ledger held left for the in-region
    (balance 0). A contribution that arrives after it is credited and forwarded the same way:
    a further AccountTransferredOut of the same transfer (its own ``transaction_id``)."""

    ce_type = "chs.account.transferred-out.v1"
    transfer_id: str
    to_region: str


@register
class AccountTransferredWithin(AccountMovement):
    """A transfer within the province completed: the whole balance the ledger held left the
    from-region and arrived in the to-region, as one movement keyed by the transfer (the same
    account, re-homed; ``balance_after_fen`` equals ``amount_fen``). Transfer records the amount."""

    ce_type = "chs.account.transferred-within.v1"
    transfer_id: str
    from_region: str
    to_region: str


@register
class AccountTransferredIn(AccountMovement):
    """A cross-province transfer into the province completed: the balance the out-province
    confirmed through the national transfer platform arrived (its reference, and the receiving
    region's staff who entered it) and the account pools in ``to_region``."""

    ce_type = "chs.account.transferred-in.v2"
    transfer_id: str
    from_region: str
    to_region: str
    platform_reference: str = Field(description="The national transfer platform's reference")
    confirmed_by: str = Field(description="The receiving region's agency staff who entered it")


@register
class AccountWithdrawn(AccountMovement):
    """The holder died: the balance was paid to the heirs as a lump sum and the account closed."""

    ce_type = "chs.account.withdrawn.v1"
    reason: Literal["death"] = "death"
    closed_on: date
