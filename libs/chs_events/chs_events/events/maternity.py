"""Events of the maternity service (生育待遇), on ``chs.maternity.events``.

The maternity allowance (生育津贴) walks applied → approved → paid. A qualifying maternity
settlement grants it without application (免申即享): MaternityAllowanceApproved with ``source``
auto and no MaternityApplied before it. Every amount is integer fen (分).
"""

from datetime import date
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
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
