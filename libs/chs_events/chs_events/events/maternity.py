"""Events of the maternity service (生育待遇), on ``chs.maternity.events``.

The maternity allowance (生育津贴) walks applied → approved → paid. A qualifying maternity
settlement grants it without application (免申即享): MaternityAllowanceApproved with ``source``
auto and no MaternityApplied before it. When that settlement is reversed (冲正), an allowance
not yet paid is cancelled (MaternityAllowanceCancelled) and one already paid stays paid with a
recovery item (追回) for the agency (MaternityRecoveryRaised). Every amount is integer fen (分).
"""

from datetime import date
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.events.reimbursement import SettlementReversalReason
from chs_events.topics import MATERNITY_EVENTS

Kind = Literal["birth", "miscarriage"]


class MaternityEvent(Event):
    topic = MATERNITY_EVENTS
    producer = "maternity"


@register
class MaternityApplied(MaternityEvent):
    """An application for the allowance where no settlement grants it (a miscarriage whose
    gestational age the diagnosis does not say, a birth abroad, ...); waits for approval."""

    ce_type = "chs.maternity.applied.v1"
    application_id: str
    employer_id: str
    kind: Kind
    event_date: date = Field(description="Day of the birth or miscarriage")


@register
class MaternityAllowanceApproved(MaternityEvent):
    """The allowance was granted: from a settlement (``source`` auto) or an approved
    application. ``amount_fen = daily_wage_fen × leave_days``."""

    ce_type = "chs.maternity.approved.v1"
    allowance_id: str
    source: Literal["auto", "application"]
    settlement_id: str | None = None
    application_id: str | None = None
    employer_id: str
    kind: Kind
    event_date: date
    babies: int = Field(ge=0)
    difficult_birth: bool
    gestational_weeks: int | None = None
    leave_days: int = Field(gt=0)
    monthly_wage_fen: int = Field(strict=True, ge=0)
    daily_wage_fen: int = Field(strict=True, ge=0)
    amount_fen: int = Field(strict=True, ge=0)


@register
class MaternityAllowancePaid(MaternityEvent):
    """The approved allowance was paid out."""

    ce_type = "chs.maternity.paid.v1"
    allowance_id: str
    amount_fen: int = Field(strict=True, ge=0)
    paid_on: date
    payment_reference: str


@register
class MaternityAllowanceCancelled(MaternityEvent):
    """An allowance granted from a settlement and not yet paid was cancelled: ``reason``
    settlement_reversed, the settlement was reversed (冲正) for ``reversal_reason_code``.
    Nothing is paid; a new settlement of the confinement may grant it again."""

    ce_type = "chs.maternity.cancelled.v1"
    allowance_id: str
    settlement_id: str
    event_date: date = Field(description="Day of the birth the allowance was for")
    amount_fen: int = Field(strict=True, ge=0, description="What is no longer paid")
    reason: Literal["settlement_reversed"]
    reversal_reason_code: SettlementReversalReason


@register
class MaternityRecoveryRaised(MaternityEvent):
    """An allowance granted from a settlement was paid before the settlement was reversed
    (冲正): it stays paid, and the agency of ``region`` is to recover (追回) ``amount_fen`` paid
    under ``payment_reference``. The item is open."""

    ce_type = "chs.maternity.recovery.raised.v1"
    recovery_id: str
    allowance_id: str
    settlement_id: str
    event_date: date = Field(description="Day of the birth the allowance was for")
    amount_fen: int = Field(strict=True, ge=0)
    payment_reference: str
    region: str = Field(pattern=r"^[0-9]{6}$", description="The pooling region that recovers it")
    reversal_reason_code: SettlementReversalReason
