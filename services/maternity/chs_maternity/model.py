"""The state the rules act on: applications and allowances. Plain frozen dataclasses."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Kind = Literal["birth", "miscarriage"]


@dataclass(frozen=True)
class Application:
    application_id: str
    person_id: str
    enrollment_id: str
    employer_id: str
    kind: Kind
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    reference: str
    status: Literal["pending", "approved"]
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    allowance_id: str | None = None


@dataclass(frozen=True)
class Allowance:
    allowance_id: str
    person_id: str
    source: Literal["auto", "application"]
    settlement_id: str | None
    application_id: str | None
    employer_id: str
    kind: Kind
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    leave_days: int
    monthly_wage_fen: int
    daily_wage_fen: int
    amount_fen: int
    status: Literal["approved", "paid"]
    approved_at: datetime
    paid_on: date | None = None
    payment_reference: str | None = None
