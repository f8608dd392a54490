"""Request and response bodies of the chronic-disease API, with OpenAPI examples."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from chs_chronic.catalog import Condition
from chs_chronic.model import Application, Certification
from chs_events.fields import PERSON_ID_EXAMPLE, Identifier, PersonId, examples
from chs_events.vocabulary import CHINA

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Icd10 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=16),
    Field(examples=["E11.9"], description="ICD-10 (insurance edition) code"),
]

APPLICATION_EXAMPLE = {
    "person_id": PERSON_ID_EXAMPLE,
    "institution_code": "H37078300001",
    "institution_name": "寿光市人民医院",
    "doctor_id": "D3707830012",
    "doctor_name": "王医生",
    "discharge_date": "2026-11-20",
    "diagnosis_codes": ["E11.9", "I10"],
    "condition_code": "t2dm",
    "evidence": [{"kind": "lab_report", "reference": "LIS-2026112000123"}],
}


class EvidenceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
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
    institution_code: Identifier
    institution_name: Text
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
            "reason": "检验结果未达到类风湿关节炎诊断标准",
        },
    )
    decision: Literal["certify", "reject"]
    reviewer: Identifier
    condition_code: Annotated[str, Field(max_length=40)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class RevokeBody(BaseModel):
    model_config = examples({"reason": "复核发现诊断依据不足"})
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ConditionPublic(BaseModel):
    code: str
    name: str
    icd10: list[str]
    annual_cap_fen: int
    pay_ratio_permille: int
    validity_months: int
    auto: bool = Field(description="Granted without application (免申即享)")
    review: bool = Field(description="Applications are decided by a reviewer")
    required_evidence: list[str]

    @classmethod
    def of(cls, condition: Condition) -> "ConditionPublic":
        return cls(**condition.model_dump())


class CatalogPublic(BaseModel):
    title: str
    version: str
    application_window_days: int
    conditions: list[ConditionPublic]


class DiagnosisMatch(BaseModel):
    diagnosis: str
    condition: ConditionPublic | None


class CertificationPublic(BaseModel):
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
    certified_at: AwareDatetime
    ended_on: date | None
    end_reason: str | None

    @classmethod
    def of(cls, c: Certification) -> "CertificationPublic":
        return cls(
            **{
                **c.__dict__,
                "diagnosis_codes": list(c.diagnosis_codes),
                "certified_at": _china(c.certified_at),
            }
        )


class ApplicationPublic(BaseModel):
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
    submitted_at: AwareDatetime
    decided_at: AwareDatetime | None
    decided_by: str | None
    certification_id: str | None
    certification: CertificationPublic | None = None

    @classmethod
    def of(
        cls,
        a: Application,
        certification: Certification | None = None,
    ) -> "ApplicationPublic":
        return cls(
            application_id=a.application_id,
            person_id=a.person_id,
            status=a.status,
            condition_code=a.condition_code,
            rule=a.rule,
            reason=a.reason,
            institution_code=a.institution_code,
            institution_name=a.institution_name,
            doctor_id=a.doctor_id,
            doctor_name=a.doctor_name,
            discharge_date=a.discharge_date,
            diagnosis_codes=list(a.diagnosis_codes),
            evidence=[EvidenceRef(kind=e.kind, reference=e.reference) for e in a.evidence],
            submitted_at=_china(a.submitted_at),
            decided_at=_china(a.decided_at),
            decided_by=a.decided_by,
            certification_id=a.certification_id,
            certification=CertificationPublic.of(certification) if certification else None,
        )


def _china(moment: datetime | None) -> datetime | None:
    """Times read in Asia/Shanghai, whether just made or read back from the database."""
    return None if moment is None else moment.astimezone(CHINA)


class ReviewQueue(BaseModel):
    count: int
    applications: list[ApplicationPublic]


class PersonConditions(BaseModel):
    person_id: str
    active: list[CertificationPublic]
    ended: list[CertificationPublic]
