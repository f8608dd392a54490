"""Events of the reimbursement service (手工报销 and one-stop settlement), on
``chs.reimbursement.events``.

``SettlementCompleted`` is the contract of a one-stop settlement (一站式结算) at a designated
institution, shaped like the national settlement record: who, where, when, which diagnoses,
and how the total split between the funds and the person. Every amount is integer fen (分).
"""
from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from chs_events.events.base import Event, register
from chs_events.topics import REIMBURSEMENT_EVENTS

Insutype = Literal["310", "390", "392"]
# ICD-10 (insurance edition): a category (E11), a subcategory (E11.9) or an extension code
# (E11.900x001).
Icd10Code = Annotated[str, StringConstraints(
    strip_whitespace=True, to_upper=True,
    pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,8})?$")]
Fen = Annotated[int, Field(strict=True, ge=0, le=10**12, description="Integer fen (分)")]


class ReimbursementEvent(Event):
    topic = REIMBURSEMENT_EVENTS
    producer = "reimbursement"


@register
class SettlementCompleted(ReimbursementEvent):
    """A settlement was completed at a designated institution (一站式结算).

    Amounts: ``total = eligible + ineligible`` and ``total = pooled fund + critical illness +
    medical assistance + personal account + personal cash``; the three fund tiers pay only
    eligible expenses.
    """

    ce_type = "chs.reimbursement.settlement.completed.v1"
    settlement_id: str = Field(min_length=1, max_length=64)
    insutype: Insutype
    institution_code: str = Field(min_length=1, max_length=32,
                                  description="National code of the designated institution")
    institution_name: str = Field(min_length=1, max_length=100)
    institution_level: Literal[1, 2, 3] = Field(description="Hospital level (一级/二级/三级)")
    institution_region: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 region code")
    visit_type: Literal["outpatient", "inpatient"]
    admission_date: date = Field(description="First service date (admission or visit day)")
    discharge_date: date | None = Field(
        default=None, description="Last service date; required for an inpatient stay")
    discharge_diagnoses: list[Icd10Code] = Field(
        min_length=1, description="ICD-10 (insurance edition) codes, the main diagnosis first")
    total_fen: Fen
    eligible_fen: Fen = Field(description="Within the policy scope (政策范围内)")
    ineligible_fen: Fen
    pooled_fund_fen: Fen = Field(description="Basic insurance pooled fund (统筹基金)")
    critical_illness_fen: Fen = Field(description="Critical-illness insurance (大病保险)")
    medical_assistance_fen: Fen = Field(description="Medical assistance (医疗救助)")
    personal_account_fen: Fen = 0
    personal_cash_fen: Fen
    invoice_no: str = Field(min_length=1, max_length=64)
    maternity: bool = Field(default=False, description="A maternity visit (生育)")
    remote_care_filing_id: str | None = Field(
        default=None, description="The remote-care filing (异地就医备案) it was settled under")
    settled_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> "SettlementCompleted":
        if self.visit_type == "inpatient" and self.discharge_date is None:
            raise ValueError("an inpatient settlement needs a discharge_date")
        if self.discharge_date is not None and self.discharge_date < self.admission_date:
            raise ValueError("discharge_date is before admission_date")
        if self.eligible_fen + self.ineligible_fen != self.total_fen:
            raise ValueError("eligible_fen + ineligible_fen must equal total_fen")
        funds = self.pooled_fund_fen + self.critical_illness_fen + self.medical_assistance_fen
        if funds + self.personal_account_fen + self.personal_cash_fen != self.total_fen:
            raise ValueError("the fund, account and cash parts must add up to total_fen")
        if funds > self.eligible_fen:
            raise ValueError("the funds pay more than the eligible expenses")
        return self

    @property
    def service_end(self) -> date:
        return self.discharge_date or self.admission_date
