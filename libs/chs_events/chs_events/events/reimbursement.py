"""Events of the reimbursement service (手工报销 and one-stop settlement), on
``chs.reimbursement.events``.

``SettlementCompleted`` is the contract of a one-stop settlement (一站式结算) at a designated
institution, shaped like the national settlement record: who, where, when, which diagnoses,
and how the total split between the funds and the person, line by line with the rule that
produced each. ``SettlementReversed`` undoes one (冲正). A manual claim (手工报销) for expenses
paid out of pocket walks submitted → approved (with the same split) or rejected (with the rule)
→ paid. Every amount is integer fen (分), so each amount a person is told can be recomputed
from these events.
"""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chs_events.events.base import Event, register
from chs_events.fields import Fen
from chs_events.topics import REIMBURSEMENT_EVENTS

Insutype = Literal["310", "390", "392"]

SettlementReversalReason = Literal[
    "settlement_data_error",
    "patient_request",
    "duplicate_settlement",
    "wrong_insured_identity",
]
"""Why a settlement is reversed (冲正): a closed list, so that no caller-written text reaches
the SMS."""

SETTLEMENT_REVERSAL_REASONS: Mapping[SettlementReversalReason, str] = MappingProxyType(
    {
        "settlement_data_error": "医院结算信息有误，已重新结算",
        "patient_request": "参保人申请撤销本次结算",
        "duplicate_settlement": "同一笔费用重复结算",
        "wrong_insured_identity": "结算所用参保身份信息有误",
    }
)
"""Each reversal reason's text, as the person reads it in the SMS."""
# ICD-10 (insurance edition): a category (E11), a subcategory (E11.9) or an extension code
# (E11.900x001), upper-cased before the check.
Icd10Code = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,8})?$"),
]
Tier = Literal["pooled_fund", "critical_illness", "medical_assistance", "personal_cash"]


class SplitLine(BaseModel):
    """One line of a split: the tier, the amount and the rule that produced it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tier: Tier
    amount_fen: Fen
    rule: str = Field(min_length=1, max_length=2000)


class ReimbursementEvent(Event):
    topic = REIMBURSEMENT_EVENTS
    producer = "reimbursement"


class _Visit(ReimbursementEvent):
    """Where, when and for what the expenses were incurred, and their amounts."""

    institution_code: str = Field(
        min_length=1, max_length=32, description="National code of the designated institution"
    )
    institution_name: str = Field(min_length=1, max_length=100)
    institution_level: Literal[1, 2, 3] = Field(description="Hospital level (一级/二级/三级)")
    institution_region: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 region code")
    visit_type: Literal["outpatient", "inpatient"]
    admission_date: date = Field(description="First service date (admission or visit day)")
    discharge_date: date | None = Field(
        default=None, description="Last service date; required for an inpatient stay"
    )
    discharge_diagnoses: list[Icd10Code] = Field(
        min_length=1, description="ICD-10 (insurance edition) codes, the main diagnosis first"
    )
    total_fen: Fen
    eligible_fen: Fen = Field(description="Within the policy scope (政策范围内)")
    ineligible_fen: Fen
    invoice_no: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _consistent_visit(self) -> "_Visit":
        if self.visit_type == "inpatient" and self.discharge_date is None:
            raise ValueError("an inpatient visit needs a discharge_date")
        if self.discharge_date is not None and self.discharge_date < self.admission_date:
            raise ValueError("discharge_date is before admission_date")
        if self.eligible_fen + self.ineligible_fen != self.total_fen:
            raise ValueError("eligible_fen + ineligible_fen must equal total_fen")
        return self

    @property
    def service_end(self) -> date:
        return self.discharge_date or self.admission_date


def _check_split(event: "SettlementCompleted | ClaimApproved") -> None:
    funds = event.pooled_fund_fen + event.critical_illness_fen + event.medical_assistance_fen
    if funds + event.personal_account_fen + event.personal_cash_fen != event.total_fen:
        raise ValueError("the fund, account and cash parts must add up to total_fen")
    if funds > event.eligible_fen:
        raise ValueError("the funds pay more than the eligible expenses")
    for tier in ("pooled_fund", "critical_illness", "medical_assistance"):
        lines = [line.amount_fen for line in event.lines if line.tier == tier]
        if lines and sum(lines) != getattr(event, f"{tier}_fen"):
            raise ValueError(f"the {tier} lines do not add up to {tier}_fen")


@register
class SettlementCompleted(_Visit):
    """A settlement was completed at a designated institution (一站式结算).

    Amounts: ``total = eligible + ineligible`` and ``total = pooled fund + critical illness +
    medical assistance + personal account + personal cash``; the three fund tiers pay only
    eligible expenses; the ``lines`` of a fund tier add up to its amount.
    """

    ce_type = "chs.reimbursement.settlement.completed.v1"
    settlement_id: str = Field(min_length=1, max_length=64)
    insutype: Insutype
    pooled_fund_fen: Fen = Field(description="Basic insurance pooled fund (统筹基金)")
    critical_illness_fen: Fen = Field(description="Critical-illness insurance (大病保险)")
    medical_assistance_fen: Fen = Field(description="Medical assistance (医疗救助)")
    personal_account_fen: Fen = 0
    personal_cash_fen: Fen
    lines: list[SplitLine] = Field(
        default_factory=list, description="The split line by line with its rule"
    )
    maternity: bool = Field(default=False, description="A maternity visit (生育)")
    remote_care_filing_id: str | None = Field(
        default=None, description="The remote-care filing (异地就医备案) it was settled under"
    )
    settled_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> "SettlementCompleted":
        _check_split(self)
        return self


@register
class SettlementReversed(ReimbursementEvent):
    """A settlement was reversed (冲正): the funds take back what they paid, the invoice is free
    again and the person's year-to-date totals are as if it had not happened."""

    ce_type = "chs.reimbursement.settlement.reversed.v2"
    settlement_id: str
    invoice_no: str
    institution_name: str
    total_fen: Fen
    pooled_fund_fen: Fen
    critical_illness_fen: Fen
    medical_assistance_fen: Fen
    reason_code: SettlementReversalReason
    reversed_at: AwareDatetime


@register
class ClaimSubmitted(_Visit):
    """A manual claim (手工报销) for expenses paid out of pocket was received; it is audited."""

    ce_type = "chs.reimbursement.claim.submitted.v1"
    claim_id: str
    submitted_on: date


@register
class ClaimApproved(ReimbursementEvent):
    """The claim passed the audits; the funds' part is to be paid to the person."""

    ce_type = "chs.reimbursement.claim.approved.v1"
    claim_id: str
    insutype: Insutype
    invoice_no: str
    institution_name: str
    total_fen: Fen
    eligible_fen: Fen
    pooled_fund_fen: Fen
    critical_illness_fen: Fen
    medical_assistance_fen: Fen
    personal_account_fen: Fen = 0
    personal_cash_fen: Fen = Field(description="What the person bears in the end")
    lines: list[SplitLine] = Field(default_factory=list)
    remote_care_filing_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ClaimApproved":
        _check_split(self)
        return self

    @property
    def payable_fen(self) -> int:
        return self.pooled_fund_fen + self.critical_illness_fen + self.medical_assistance_fen


@register
class ClaimRejected(ReimbursementEvent):
    """The claim failed an audit; ``rule`` names it (not_enrolled, no_remote_care_filing,
    invoice_already_reimbursed, claim_deadline_passed, no_policy)."""

    ce_type = "chs.reimbursement.claim.rejected.v1"
    claim_id: str
    invoice_no: str
    rule: str
    reason: str


@register
class ClaimPaid(ReimbursementEvent):
    """The approved claim's fund part was paid to the person."""

    ce_type = "chs.reimbursement.claim.paid.v1"
    claim_id: str
    invoice_no: str
    amount_fen: Fen
    paid_on: date
    payment_reference: str
