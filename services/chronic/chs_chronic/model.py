"""The state the rules act on: applications and certifications. Plain frozen dataclasses."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from chs_chronic.commands import Evidence

ApplicationStatus = Literal["certified", "rejected", "pending_review"]
CertificationStatus = Literal["active", "expired", "revoked"]
Source = Literal["application", "review", "auto"]


@dataclass(frozen=True)
class Application:
    application_id: str
    person_id: str
    institution_code: str
    institution_name: str
    doctor_id: str
    doctor_name: str
    discharge_date: date
    diagnosis_codes: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    requested_condition: str | None
    condition_code: str | None
    status: ApplicationStatus
    rule: str | None
    reason: str | None
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    certification_id: str | None = None


@dataclass(frozen=True)
class Certification:
    certification_id: str
    person_id: str
    condition_code: str
    condition_name: str
    source: Source
    application_id: str | None
    settlement_id: str | None
    diagnosis_codes: tuple[str, ...]
    institution_code: str
    institution_name: str
    valid_from: date
    valid_until: date
    annual_cap_fen: int
    pay_ratio_permille: int
    status: CertificationStatus
    certified_at: datetime
    ended_on: date | None = None
    end_reason: str | None = None
