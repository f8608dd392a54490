"""Request and response bodies of the chronic-disease API, with OpenAPI examples."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chs_chronic.model import Application, Certification
from chs_events.events.chronic import (
    CHRONIC_REFUSAL_REASONS,
    CHRONIC_REVOCATION_REASONS,
    ChronicRefusalReason,
    ChronicRevocationReason,
)
from chs_events.fields import PERSON_ID_EXAMPLE, Identifier, PersonId, closed_list, examples
from chs_events.institutions import InstitutionCode
from chs_events.schemas import ChinaTime, PublicModel

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Icd10 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=16),
    Field(examples=["E11.9"], description="ICD-10 (insurance edition) code"),
]

APPLICATION_EXAMPLE = {
    "person_id": PERSON_ID_EXAMPLE,
    "institution_code": "H37078300001",
    "doctor_id": "D3707830012",
    "doctor_name": "王医生",
    "discharge_date": "2026-11-20",
    "diagnosis_codes": ["E11.9", "I10"],
    "condition_code": "t2dm",
    "evidence": [{"kind": "lab_report", "reference": "LIS-2026112000123"}],
}


class EvidenceRef(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    kind: Annotated[
        str,
        Field(
            examples=["lab_report"],
            description=(
                "lab_report, pathology, imaging, ecg, lung_function, specialist_opinion, "
                "dialysis_record, transplant_record, discharge_summary"
            ),
        ),
    ]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Where the hospital keeps the document (its report number)"
    )


class ApplicationCreate(BaseModel):
    """An application at the hospital on the discharge day. Without ``condition_code`` the
    condition is the one the diagnoses name."""

    model_config = examples(APPLICATION_EXAMPLE)
    person_id: PersonId
    institution_code: InstitutionCode
    institution_name: Text | None = Field(
        default=None, description="Deprecated: the registry's name; another one is refused"
    )
    doctor_id: Identifier
    doctor_name: Text
    discharge_date: date
    diagnosis_codes: list[Icd10] = Field(min_length=1, max_length=20)
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=20)
    condition_code: Annotated[str, Field(max_length=40)] | None = None


class ReviewDecision(BaseModel):
    """A reviewer's decision; ``condition_code`` picks the condition when the diagnoses named
    several; a refusal says why (``reason``, sent to the person)."""

    model_config = examples(
        {"decision": "certify", "reviewer": "SG-REVIEW-07", "condition_code": "t2dm"},
        {
            "decision": "reject",
            "reviewer": "SG-REVIEW-07",
            "reason_code": "criteria_not_met",
        },
    )
    decision: Literal["certify", "reject"]
    reviewer: Identifier
    condition_code: Annotated[str, Field(max_length=40)] | None = None
    reason_code: ChronicRefusalReason | None = Field(
        default=None, description=closed_list(CHRONIC_REFUSAL_REASONS, "Why a refusal")
    )


class RevokeBody(BaseModel):
    model_config = examples({"reason_code": "diagnosis_not_supported"})
    reason_code: ChronicRevocationReason = Field(
        description=closed_list(CHRONIC_REVOCATION_REASONS)
    )


class ConditionPublic(PublicModel):
    code: str
    name: str
    icd10: list[str]
    annual_cap_fen: int
    pay_ratio_permille: int
    validity_months: int
    auto: bool = Field(description="Granted without application (免申即享)")
    review: bool = Field(description="Applications are decided by a reviewer")
    required_evidence: list[str]


class CatalogPublic(BaseModel):
    title: str
    version: str
    application_window_days: int
    conditions: list[ConditionPublic]


class DiagnosisMatch(BaseModel):
    diagnosis: str
    condition: ConditionPublic | None


class CertificationPublic(PublicModel):
    certification_id: str
    person_id: str
    condition_code: str
    condition_name: str
    source: Literal["application", "review", "auto"]
    application_id: str | None
    settlement_id: str | None
    diagnosis_codes: list[str]
    institution_code: str
    institution_name: str
    valid_from: date
    valid_until: date
    annual_cap_fen: int
    pay_ratio_permille: int
    status: Literal["active", "expired", "revoked"]
    certified_at: ChinaTime
    ended_on: date | None
    end_reason: str | None


class ApplicationPublic(PublicModel):
    application_id: str
    person_id: str
    status: Literal["certified", "rejected", "pending_review"]
    condition_code: str | None
    rule: str | None = Field(description="The rule that refused it, or why it waits for review")
    reason: str | None
    institution_code: str
    institution_name: str
    doctor_id: str
    doctor_name: str
    discharge_date: date
    diagnosis_codes: list[str]
    evidence: list[EvidenceRef]
    submitted_at: ChinaTime
    decided_at: ChinaTime | None
    decided_by: str | None
    certification_id: str | None
    certification: CertificationPublic | None = None

    @classmethod
    def of(cls, a: Application, certification: Certification | None = None) -> "ApplicationPublic":
        return cls.from_attributes(a, certification=certification)


class ReviewQueue(BaseModel):
    count: int
    applications: list[ApplicationPublic]


class PersonConditions(BaseModel):
    person_id: str
    active: list[CertificationPublic]
    ended: list[CertificationPublic]
