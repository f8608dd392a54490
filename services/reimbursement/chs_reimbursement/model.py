"""The state the rules act on: bills, settlements and claims. Plain frozen dataclasses; the split
of a bill is the calculator's ``Settlement`` (called ``Split`` here, beside the service's own
``Settlement`` record)."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from chs_events.vocabulary import Insutype
from chs_reimbursement.calculator import Accumulators, Visit
from chs_reimbursement.calculator import Settlement as Split
from chs_reimbursement.calculator.model import Filing

__all__ = ["Bill", "Claim", "Settlement", "Split", "Terms"]


@dataclass(frozen=True)
class Bill:
    """What the institution (direct settlement) or the person (a manual claim) presents: the
    visit, its expenses split into eligible (政策范围内) and ineligible (全自费), the invoice."""

    institution_code: str
    institution_name: str
    institution_level: Literal[1, 2, 3]
    institution_region: str
    visit_type: Literal["outpatient", "inpatient"]
    admission_date: date
    discharge_date: date | None
    diagnoses: tuple[str, ...]
    eligible_fen: int
    ineligible_fen: int
    invoice_no: str
    emergency: bool = False

    @property
    def total_fen(self) -> int:
        return self.eligible_fen + self.ineligible_fen

    @property
    def service_end(self) -> date:
        return self.discharge_date or self.admission_date

    def visit(self) -> Visit:
        return Visit(self.visit_type, self.institution_level, self.institution_region,
                     self.admission_date, self.discharge_date, self.diagnoses,
                     self.eligible_fen, self.ineligible_fen)


@dataclass(frozen=True)
class Terms:
    """What the audits found a bill is settled under: the enrollment, its insured type and
    pooling region, and the remote-care filing category (with the filing, if one was needed)."""

    enrollment_id: str
    insutype: Insutype
    region: str
    filing: Filing
    filing_id: str | None
    basis: str


@dataclass(frozen=True)
class Settlement:
    """A direct settlement (一站式结算) at an institution; ``reversed`` once taken back (冲正)."""

    settlement_id: str
    person_id: str
    bill: Bill
    terms: Terms
    maternity: bool
    split: Split
    accumulators_before: Accumulators
    status: Literal["completed", "reversed"]
    settled_at: datetime
    reversed_at: datetime | None = None
    reversal_reason: str | None = None


@dataclass(frozen=True)
class Claim:
    """A manual claim (手工报销): audited in the request, then ``approved`` with the split or
    ``rejected`` with the rule; an approved claim is ``paid``."""

    claim_id: str
    person_id: str
    bill: Bill
    submitted_on: date
    submitted_at: datetime
    status: Literal["approved", "rejected", "paid"]
    decided_at: datetime
    terms: Terms | None = None
    split: Split | None = None
    accumulators_before: Accumulators | None = None
    rule: str | None = None
    reason: str | None = None
    paid_on: date | None = None
    payment_reference: str | None = None

    @property
    def payable_fen(self) -> int:
        return self.split.funds_fen if self.split else 0
