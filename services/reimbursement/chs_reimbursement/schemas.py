"""Request and response bodies of the reimbursement API, with OpenAPI examples."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, computed_field, model_validator

from chs_events.clock import today
from chs_events.events.reimbursement import (
    SETTLEMENT_REVERSAL_REASONS,
    Icd10Code,
    SettlementReversalReason,
)
from chs_events.fields import (
    PERSON_ID_EXAMPLE,
    Fen,
    Identifier,
    PersonId,
    RegionCode,
    check_fen_sum,
    closed_list,
    examples,
)
from chs_events.institutions import InstitutionCode, designated
from chs_events.schemas import ChinaTime, PublicModel
from chs_events.vocabulary import Insutype
from chs_reimbursement.calculator import ASSISTED_GROUPS, Accumulators, FilingCategory
from chs_reimbursement.model import Bill, Claim, Settlement, Terms

GroupCode = Literal[
    "destitute", "dibao", "dibao_marginal", "poverty_relapse", "monitored", "illness_poverty"
]

_INPATIENT = {
    "institution_code": "H37020200017",
    "visit_type": "inpatient",
    "admission_date": "2026-11-10",
    "discharge_date": "2026-11-18",
    "diagnoses": ["I63.9", "I10"],
    "eligible_fen": 4_800_000,
    "ineligible_fen": 350_000,
    "invoice_no": "3702002611180001",
}


class BillBase(BaseModel):
    """The visit and its expenses as on the invoice; amounts in integer fen."""

    institution_code: InstitutionCode
    institution_name: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        Field(description="Deprecated: the registry's name; another one is refused"),
    ] = None
    institution_level: Literal[1, 2, 3] | None = Field(
        default=None, description="Deprecated: the registry's level; another one is refused"
    )
    institution_region: RegionCode | None = Field(
        default=None, description="Deprecated: the registry's region; another one is refused"
    )
    visit_type: Literal["outpatient", "inpatient"]
    admission_date: date = Field(description="Admission, or the day of an outpatient visit")
    discharge_date: date | None = Field(default=None, description="Required for a stay")
    diagnoses: list[Icd10Code] = Field(
        min_length=1, max_length=20, description="ICD-10, the main (discharge) one first"
    )
    eligible_fen: Fen = Field(description="Within the policy scope (政策范围内)")
    ineligible_fen: Fen = Field(description="Outside it (全自费)")
    invoice_no: Identifier
    emergency: bool = Field(default=False, description="Emergency care (counts as filed)")

    @model_validator(mode="after")
    def _total(self) -> "BillBase":
        """The total the events carry (``total_fen``) within their bound."""
        check_fen_sum(
            "eligible_fen + ineligible_fen (the total)", self.eligible_fen, self.ineligible_fen
        )
        return self

    @model_validator(mode="after")
    def _dates(self) -> "BillBase":
        if self.visit_type == "inpatient" and self.discharge_date is None:
            raise ValueError("discharge_date: an inpatient stay needs its discharge date")
        if self.discharge_date is not None and self.discharge_date < self.admission_date:
            raise ValueError("discharge_date: before admission_date")
        if (self.discharge_date or self.admission_date) > today():
            raise ValueError("the service dates are in the future")
        return self

    def bill(self) -> Bill:
        """The bill, at the registry's institution (``InvalidInput`` when the request states
        another name, level or region of it)."""
        where = designated(
            self.institution_code,
            name=self.institution_name,
            level=self.institution_level,
            region=self.institution_region,
        )
        return Bill(
            where.code,
            where.name,
            where.level,
            where.region,
            self.visit_type,
            self.admission_date,
            self.discharge_date,
            tuple(self.diagnoses),
            self.eligible_fen,
            self.ineligible_fen,
            self.invoice_no,
            self.emergency,
        )


class SettlementCreate(BillBase):
    """The institution's HIS settles a visit at discharge (一站式结算)."""

    model_config = examples({"person_id": PERSON_ID_EXAMPLE, **_INPATIENT})
    person_id: PersonId
    maternity: bool = Field(default=False, description="A maternity visit (生育)")


class ClaimCreate(BillBase):
    """Expenses the person paid out of pocket (手工报销)."""

    model_config = examples(
        {
            "person_id": PERSON_ID_EXAMPLE,
            **_INPATIENT,
            "institution_region": "460200",
            "emergency": True,
        }
    )
    person_id: PersonId


class ReverseBody(BaseModel):
    model_config = examples({"reason_code": "settlement_data_error"})
    reason_code: SettlementReversalReason = Field(
        description=closed_list(SETTLEMENT_REVERSAL_REASONS)
    )


class PayBody(BaseModel):
    model_config = examples({"payment_reference": "BANK-20261122-000123"})
    payment_reference: Identifier
    paid_on: date | None = None


class AssistedGroups(BaseModel):
    model_config = examples({"groups": ["dibao"]})
    groups: list[GroupCode] = Field(
        max_length=6, description="; ".join(f"{k} {v}" for k, v in ASSISTED_GROUPS.items())
    )


class LinePublic(PublicModel):
    tier: Literal["pooled_fund", "critical_illness", "medical_assistance", "personal_cash"]
    amount_fen: int
    rule: str


class SplitPublic(PublicModel):
    """As in the national settlement record: the parts add up to ``total_fen``."""

    total_fen: int
    eligible_fen: int
    ineligible_fen: int
    pooled_fund_fen: int = Field(description="Basic insurance pooled fund (统筹基金)")
    critical_illness_fen: int = Field(description="Critical-illness insurance (大病保险)")
    medical_assistance_fen: int = Field(description="Medical assistance (医疗救助)")
    personal_cash_fen: int = Field(description="What the person pays (个人现金)")
    lines: list[LinePublic]


class TermsPublic(PublicModel):
    enrollment_id: str
    insutype: Insutype
    pooling_region: str
    filing: FilingCategory
    remote_care_filing_id: str | None
    basis: str = Field(description="home_city, filing, in_province or emergency")

    @classmethod
    def of(cls, terms: Terms | None) -> "TermsPublic | None":
        if terms is None:
            return None
        return cls.from_attributes(
            terms, pooling_region=terms.region, remote_care_filing_id=terms.filing_id
        )


class BillPublic(PublicModel):
    institution_code: str
    institution_name: str
    institution_level: int
    institution_region: str
    visit_type: str
    admission_date: date
    discharge_date: date | None
    diagnoses: list[str]
    eligible_fen: int
    ineligible_fen: int
    total_fen: int
    invoice_no: str
    emergency: bool


class SettlementPublic(PublicModel):
    settlement_id: str
    person_id: str
    status: Literal["completed", "reversed"]
    bill: BillPublic
    terms: TermsPublic
    maternity: bool
    split: SplitPublic
    settled_at: ChinaTime
    reversed_at: ChinaTime | None
    reversal_reason_code: SettlementReversalReason | None

    @computed_field(description="The reversal reason's text, as the SMS tells it")  # type: ignore[prop-decorator]
    @property
    def reversal_reason(self) -> str | None:
        code = self.reversal_reason_code
        return None if code is None else SETTLEMENT_REVERSAL_REASONS[code]

    @classmethod
    def of(cls, s: Settlement) -> "SettlementPublic":
        return cls.from_attributes(s, terms=TermsPublic.of(s.terms))


class ClaimPublic(PublicModel):
    claim_id: str
    person_id: str
    status: Literal["approved", "rejected", "paid"]
    bill: BillPublic
    submitted_on: date
    submitted_at: ChinaTime
    decided_at: ChinaTime
    rule: str | None = Field(description="The audit a rejected claim failed")
    reason: str | None
    terms: TermsPublic | None
    split: SplitPublic | None
    payable_fen: int = Field(description="What the funds pay back to the person")
    paid_on: date | None
    payment_reference: str | None

    @classmethod
    def of(cls, c: Claim) -> "ClaimPublic":
        return cls.from_attributes(c, terms=TermsPublic.of(c.terms))


class AccumulatorsPublic(PublicModel):
    """The person's year-to-date totals as the next settlement reads them."""

    person_id: str
    year: int
    basic_inpatient_paid_fen: int
    basic_outpatient_paid_fen: int
    inpatient_deductibles_paid_fen: int
    outpatient_deductible_paid_fen: int
    admissions: int
    critical_illness_counted_fen: int
    critical_illness_paid_fen: int
    assistance_deductible_paid_fen: int
    assistance_paid_fen: int

    @classmethod
    def of(cls, person_id: str, totals: Accumulators) -> "AccumulatorsPublic":
        return cls.from_attributes(totals, person_id=person_id)


class PersonReimbursements(BaseModel):
    person_id: str
    assisted_groups: list[str]
    settlements: list[SettlementPublic]
    claims: list[ClaimPublic]
