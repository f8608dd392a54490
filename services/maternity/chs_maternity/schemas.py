"""Request and response bodies of the maternity API, with OpenAPI examples."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from chs_events.clock import today
from chs_events.events.reimbursement import SettlementReversalReason
from chs_events.fields import PERSON_ID_EXAMPLE, Identifier, PersonId, examples
from chs_events.schemas import ChinaTime, PublicModel
from chs_maternity.model import Allowance, Application


class ApplicationCreate(BaseModel):
    """An application where no settlement grants the allowance: a miscarriage (with the
    completed weeks of gestation), a birth abroad or outside the settlement system."""

    model_config = examples(
        {
            "person_id": PERSON_ID_EXAMPLE,
            "kind": "miscarriage",
            "event_date": "2026-11-10",
            "gestational_weeks": 17,
            "reference": "QDFY-2026-118802",
        },
        {
            "person_id": PERSON_ID_EXAMPLE,
            "kind": "birth",
            "event_date": "2026-10-02",
            "babies": 2,
            "difficult_birth": True,
            "reference": "SG-BIRTH-CERT-A8812345",
        },
    )
    person_id: PersonId
    kind: Literal["birth", "miscarriage"]
    event_date: date = Field(description="Day of the birth or miscarriage")
    babies: int = Field(default=1, ge=1, le=8, description="Babies born (a birth)")
    difficult_birth: bool = Field(default=False, description="难产 (a birth)")
    gestational_weeks: int | None = Field(
        default=None, ge=1, le=45, description="Completed weeks (a miscarriage)"
    )
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = Field(description="The document it rests on: medical record, birth certificate …")

    @field_validator("event_date")
    @classmethod
    def _not_in_the_future(cls, event_date: date) -> date:
        if event_date > today():
            raise ValueError(f"{event_date} is in the future")
        return event_date


class ApproveBody(BaseModel):
    model_config = examples({"reviewer": "QD-MAT-03"})
    reviewer: Identifier


class PayBody(BaseModel):
    model_config = examples({"payment_reference": "BANK-20261122-000123"})
    payment_reference: Identifier
    paid_on: date | None = None


class AllowancePublic(PublicModel):
    allowance_id: str
    person_id: str
    source: Literal["auto", "application"]
    settlement_id: str | None
    application_id: str | None
    employer_id: str
    kind: Literal["birth", "miscarriage"]
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    leave_days: int
    monthly_wage_fen: int = Field(description="The employer's monthly average wage")
    daily_wage_fen: int = Field(description="monthly_wage_fen // 30")
    amount_fen: int = Field(description="daily_wage_fen × leave_days")
    status: Literal["approved", "paid", "cancelled"] = Field(
        description="cancelled: its settlement was reversed (冲正) before it was paid"
    )
    approved_at: ChinaTime
    paid_on: date | None
    payment_reference: str | None
    settlement_reversed_at: ChinaTime | None = Field(
        default=None, description="When its settlement was reversed (冲正)"
    )


class ApplicationPublic(PublicModel):
    application_id: str
    person_id: str
    employer_id: str
    kind: Literal["birth", "miscarriage"]
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    reference: str
    status: Literal["pending", "approved"]
    submitted_at: ChinaTime
    decided_at: ChinaTime | None
    decided_by: str | None
    allowance: AllowancePublic | None = None

    @classmethod
    def of(cls, a: Application, allowance: Allowance | None = None) -> "ApplicationPublic":
        return cls.from_attributes(a, allowance=allowance)


class PersonAllowances(BaseModel):
    person_id: str
    allowances: list[AllowancePublic]
    applications: list[ApplicationPublic]


class EmployerWage(BaseModel):
    employer_id: str
    on: date
    staff: int = Field(description="Staff enrolled on the day with a contribution base")
    monthly_wage_fen: int | None = Field(description="Mean of their contribution bases, floor")
    daily_wage_fen: int | None = Field(description="monthly_wage_fen // 30")


class RecoveryPublic(PublicModel):
    """A recovery item (追回): an allowance paid from a settlement reversed afterwards."""

    recovery_id: str
    person_id: str
    allowance_id: str
    settlement_id: str = Field(description="The reversed settlement")
    event_date: date
    amount_fen: int = Field(description="What was paid and is to be recovered")
    payment_reference: str
    reversal_reason_code: SettlementReversalReason
    region: str = Field(description="The pooling region whose agency recovers it")
    status: Literal["open"]
    raised_at: ChinaTime


class Recoveries(BaseModel):
    count: int
    recoveries: list[RecoveryPublic]
