"""Commands of the chronic-disease service."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from chs_chronic.catalog import Condition
from chs_events.commands import Command
from chs_events.events.chronic import ChronicRefusalReason, ChronicRevocationReason


@dataclass(frozen=True)
class Evidence:
    kind: str
    reference: str


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
    region: str | None = None  # the applying institution's region


class DecideApplication(Command):
    """A reviewer's decision on a queued application."""

    application_id: str
    decision: Literal["certify", "reject"]
    reviewer: str
    condition_code: str | None = None
    reason_code: ChronicRefusalReason | None = None


class RevokeCertification(Command):
    certification_id: str
    reason_code: ChronicRevocationReason


@dataclass(frozen=True)
class AutoGrant:
    """A condition a settlement certifies without application, with its diagnoses."""

    condition: Condition
    diagnoses: tuple[str, ...]
    valid_from: date


class CertifyFromSettlement(Command):
    """免申即享: an inpatient settlement's diagnoses certify the auto categories they name."""

    person_id: str
    settlement_id: str
    institution_code: str
    institution_name: str
    grants: tuple[AutoGrant, ...]
    region: str | None = None  # the settling institution's region


class RevokeForReversedSettlement(Command):
    """冲正: a reversed settlement revokes the certifications without application that rest on
    it alone, and grants nothing when it is read later."""

    person_id: str
    settlement_id: str
    reversed_at: datetime


class ExpireCertification(Command):
    """End a certification whose last valid day is before ``today`` (if it still is)."""

    certification_id: str
    person_id: str
    today: date
