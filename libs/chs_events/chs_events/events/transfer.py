"""Events of the transfer service (关系转移接续), on ``chs.transfer.events``.

A transfer moves an employee's basic insurance (310) from one pooling region to another:
requested → (across provinces: the out-region confirms what moves) → completed, or rejected with
a reason. Within one province it completes at once: TransferRequested and TransferCompleted are
recorded together. Enrollment consumes TransferCompleted and moves the enrollment's pooling
region (PoolingRegionChanged). Money is integer fen.

What the personal account moves is never the transfer service's to state: within the province,
and out of it, the accounts service moves the whole balance its ledger holds when the transfer
completes and says so on ``chs.account.events`` (the transfer service records what it reports).
Only a transfer *into* the province brings an amount in: the one the out-province confirmed
through the national transfer platform (全国医保关系转移接续平台), entered by agency staff of the
receiving region with the platform's reference, at most ``MAX_TRANSFER_IN_FEN``.
"""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal, Self

from pydantic import Field, model_validator

from chs_events.events.base import Event, register
from chs_events.topics import TRANSFER_EVENTS

RegionCode = str

MAX_TRANSFER_IN_FEN = 10**9
"""The policy bound on the personal-account balance a transfer into the province brings
(10^9 fen = 1000 万元, far above any real balance): the completion request and the event both
take it from here."""

PLATFORM_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{5,39}$"
"""The national transfer platform's reference of a confirmed transfer (联系函编号)."""

TransferRejectionReason = Literal[
    "arrears_unpaid",
    "no_employer_in_region",
    "already_enrolled_in_region",
    "documents_incomplete",
    "identity_mismatch",
]
"""Why a transfer is refused: a closed list, so that no caller-written text reaches the SMS."""

TRANSFER_REJECTION_REASONS: Mapping[TransferRejectionReason, str] = MappingProxyType(
    {
        "arrears_unpaid": "存在欠缴月份，需补缴后再办理",
        "no_employer_in_region": "转入地无在职参保单位",
        "already_enrolled_in_region": "转入地已有有效参保登记",
        "documents_incomplete": "转移接续材料不齐全",
        "identity_mismatch": "参保人身份信息不一致",
    }
)
"""Each rejection reason's text, as the person reads it in the SMS."""


class TransferEvent(Event):
    topic = TRANSFER_EVENTS
    producer = "transfer"

    transfer_id: str
    enrollment_id: str
    from_region: RegionCode
    to_region: RegionCode


@register
class TransferRequested(TransferEvent):
    """A transfer of an employee (310) enrollment was requested."""

    ce_type = "chs.transfer.requested.v1"
    insutype: Literal["310"] = "310"
    cross_province: bool = Field(description="Across provinces: the out-region must confirm")
    requested_on: date


@register
class TransferOutConfirmed(TransferEvent):
    """The out-region (转出地) confirmed what moves: the months paid. The personal-account balance
    is not stated here: the ledger moves what it holds when the transfer completes (v2: v1's
    caller-stated ``account_balance_fen`` is gone)."""

    ce_type = "chs.transfer.out-confirmed.v2"
    contribution_months: int = Field(ge=0, description="Distinct months paid in the enrollment")
    confirmed_on: date


class _Completed(TransferEvent):
    insutype: Literal["310"] = "310"
    cross_province: bool
    contribution_months: int = Field(ge=0)
    completed_on: date


@register
class TransferCompleted(_Completed):
    """The in-region (转入地) took the insurance over; the enrollment now pools in to_region.

    Into the province, it carries the balance the out-province confirmed through the national
    transfer platform, its reference and the receiving region's staff who entered it (all three,
    or none for any other transfer: the ledger moves what it holds and reports the amount)."""

    ce_type = "chs.transfer.completed.v2"
    confirmed_balance_fen: int | None = Field(
        default=None,
        ge=0,
        le=MAX_TRANSFER_IN_FEN,
        description="Into the province: the personal-account balance the national transfer "
        "platform confirmed (fen)",
    )
    platform_reference: str | None = Field(
        default=None,
        pattern=PLATFORM_REFERENCE_PATTERN,
        description="The national transfer platform's reference of the confirmation",
    )
    confirmed_by: str | None = Field(
        default=None,
        min_length=1,
        description="The receiving region's agency staff who entered it (the token's subject)",
    )

    @model_validator(mode="after")
    def _confirmed_all_or_nothing(self) -> Self:
        stated = (self.confirmed_balance_fen, self.platform_reference, self.confirmed_by)
        if any(v is not None for v in stated) and any(v is None for v in stated):
            raise ValueError(
                "confirmed_balance_fen, platform_reference and confirmed_by go together"
            )
        return self


@register
class TransferCompletedV1(_Completed):
    """No longer produced: v1 carried a balance stated by whoever called the API. Consumers that
    move money refuse it into the province (accounts dead-letters it) and ignore its amount
    otherwise."""

    ce_type = "chs.transfer.completed.v1"
    account_balance_fen: int = Field(ge=0)


@register
class TransferRejected(TransferEvent):
    """The out-region or the in-region refused the transfer; nothing moves."""

    ce_type = "chs.transfer.rejected.v2"
    rejected_by: Literal["out_region", "in_region"]
    reason_code: TransferRejectionReason
    rejected_on: date
