"""Events of the transfer service (关系转移接续), on ``chs.transfer.events``.

A transfer moves an employee's basic insurance (310) from one pooling region to another:
requested → (across provinces: the out-region confirms what moves) → completed, or rejected with
a reason. Within one province it completes at once: TransferRequested and TransferCompleted are
recorded together. Enrollment consumes TransferCompleted and moves the enrollment's pooling
region (PoolingRegionChanged). Money is integer fen.
"""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import TRANSFER_EVENTS

RegionCode = str

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
    """The out-region (转出地) confirmed what moves: months paid, the personal-account balance."""

    ce_type = "chs.transfer.out-confirmed.v1"
    contribution_months: int = Field(ge=0, description="Distinct months paid in the enrollment")
    account_balance_fen: int = Field(ge=0, description="Personal-account balance to move (fen)")
    confirmed_on: date


@register
class TransferCompleted(TransferEvent):
    """The in-region (转入地) took the insurance over; the enrollment now pools in to_region."""

    ce_type = "chs.transfer.completed.v1"
    insutype: Literal["310"] = "310"
    cross_province: bool
    contribution_months: int = Field(ge=0)
    account_balance_fen: int = Field(ge=0)
    completed_on: date


@register
class TransferRejected(TransferEvent):
    """The out-region or the in-region refused the transfer; nothing moves."""

    ce_type = "chs.transfer.rejected.v2"
    rejected_by: Literal["out_region", "in_region"]
    reason_code: TransferRejectionReason
    rejected_on: date
