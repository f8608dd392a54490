"""Commands of the chronic-disease service; ``correlation_id`` (``X-Request-Id``) becomes the
correlation id of the events they cause."""
from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class Command:
    correlation_id: str | None = None


@dataclass(frozen=True)
class Evidence:
    kind: str
    reference: str


@dataclass(frozen=True)
class SubmitApplication(Command):
    """An application made at the hospital, usually on the discharge day."""

    person_id: str
    institution_code: str
    institution_name: str
    doctor_id: str
    doctor_name: str
    discharge_date: date
    diagnosis_codes: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    condition_code: str | None = None  # None: the condition the diagnoses name


@dataclass(frozen=True)
class DecideApplication(Command):
    """A reviewer's decision on a queued application."""

    application_id: str
    decision: Literal["certify", "reject"]
    reviewer: str
    condition_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RevokeCertification(Command):
    certification_id: str
    reason: str
