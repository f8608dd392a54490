"""Commands of the maternity service; ``correlation_id`` (``X-Request-Id``) becomes the
correlation id of the events they cause."""
from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class Command:
    correlation_id: str | None = None


@dataclass(frozen=True)
class SubmitApplication(Command):
    """An application for the allowance where no settlement grants it."""

    person_id: str
    kind: Literal["birth", "miscarriage"]
    event_date: date
    reference: str  # the birth certificate, the hospital's record, a foreign document ...
    babies: int = 1
    difficult_birth: bool = False
    gestational_weeks: int | None = None


@dataclass(frozen=True)
class ApproveApplication(Command):
    application_id: str
    reviewer: str


@dataclass(frozen=True)
class PayAllowance(Command):
    allowance_id: str
    payment_reference: str
    paid_on: date | None = None  # today
