"""The aggregates: direct settlements and manual claims. Frozen dataclasses whose methods apply
the rules (``domain``) and return the new state with the event it raises; no I/O.

A bill and the terms its audits found are ``domain`` values; the split of a bill is the
calculator's ``Split``."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from chs_events.events.reimbursement import (
    ClaimApproved,
    ClaimPaid,
    ClaimRejected,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversalReason,
    SettlementReversed,
    SplitLine,
)
from chs_reimbursement.calculator import Accumulators, Split
from chs_reimbursement.domain import Bill, Terms, WrongStatus, check_paid_on

__all__ = ["Bill", "Claim", "Settlement", "Split", "Submission", "Terms"]


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
    reversal_reason_code: SettlementReversalReason | None = None

    @classmethod
    def settle(
        cls,
        settlement_id: str,
        person_id: str,
        bill: Bill,
        terms: Terms,
        maternity: bool,
        split: Split,
        accumulators_before: Accumulators,
        at: datetime,
    ) -> "tuple[Settlement, SettlementCompleted]":
        """A bill that passed its audits, settled with the calculator's split."""
        s = cls(
            settlement_id,
            person_id,
            bill,
            terms,
            maternity,
            split,
            accumulators_before,
            "completed",
            at,
        )
        return s, SettlementCompleted.of(
            s,
            split,
            terms,
            **_visit_fields(bill),
            lines=_lines(split),
            remote_care_filing_id=terms.filing_id,
        )

    def reverse(
        self, at: datetime, reason_code: SettlementReversalReason
    ) -> "tuple[Settlement, SettlementReversed]":
        """Taken back (冲正); only a completed settlement is (``WrongStatus`` otherwise)."""
        if self.status != "completed":
            raise WrongStatus(
                f"settlement {self.settlement_id} is already {self.status}", status_now=self.status
            )
        reversed_ = replace(
            self, status="reversed", reversed_at=at, reversal_reason_code=reason_code
        )
        return reversed_, SettlementReversed.of(
            reversed_, self.split, self.bill, reason_code=reason_code
        )


@dataclass(frozen=True)
class Claim:
    """A manual claim (手工报销): audited when submitted, then ``approved`` with the split or
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

    def pay(
        self, paid_on: date | None, reference: str, today: date
    ) -> "tuple[Claim, ClaimPaid | None]":
        """The payment of an approved claim's fund part, ``paid_on`` (default ``today``)
        between the submission and today. The same payment reported again (same reference)
        leaves the claim as it is and raises no event."""
        if self.status == "paid" and self.payment_reference == reference:
            return self, None
        if self.status != "approved":
            raise WrongStatus(
                f"claim {self.claim_id} is {self.status}; only an approved claim is paid",
                status_now=self.status,
            )
        paid_on = paid_on or today
        check_paid_on(paid_on, self.submitted_on, today)
        paid = replace(self, status="paid", paid_on=paid_on, payment_reference=reference)
        return paid, ClaimPaid.of(paid, paid.bill, amount_fen=paid.payable_fen)


@dataclass(frozen=True)
class Submission:
    """A claim as the person submits it, before its audits decide it."""

    claim_id: str
    person_id: str
    bill: Bill
    submitted_on: date
    submitted_at: datetime

    def submitted(self) -> ClaimSubmitted:
        return ClaimSubmitted.of(self, **_visit_fields(self.bill))

    def approve(
        self, terms: Terms, split: Split, accumulators_before: Accumulators, at: datetime
    ) -> tuple[Claim, ClaimApproved]:
        """The audits passed: approved with the calculator's split."""
        bill = self.bill
        claim = Claim(
            self.claim_id,
            self.person_id,
            bill,
            self.submitted_on,
            self.submitted_at,
            "approved",
            at,
            terms,
            split,
            accumulators_before,
        )
        return claim, ClaimApproved.of(
            claim, split, terms, bill, lines=_lines(split), remote_care_filing_id=terms.filing_id
        )

    def reject(self, rule: str, reason: str, at: datetime) -> tuple[Claim, ClaimRejected]:
        """An audit failed: rejected with its rule and a reason the person can read."""
        claim = Claim(
            self.claim_id,
            self.person_id,
            self.bill,
            self.submitted_on,
            self.submitted_at,
            "rejected",
            at,
            rule=rule,
            reason=reason,
        )
        return claim, ClaimRejected.of(claim, self.bill)


def _lines(split: Split) -> list[SplitLine]:
    return [
        SplitLine(tier=line.tier, amount_fen=line.amount_fen, rule=line.rule)
        for line in split.lines
    ]


def _visit_fields(bill: Bill) -> dict[str, Any]:
    return {
        "institution_code": bill.institution_code,
        "institution_name": bill.institution_name,
        "institution_level": bill.institution_level,
        "institution_region": bill.institution_region,
        "visit_type": bill.visit_type,
        "admission_date": bill.admission_date,
        "discharge_date": bill.discharge_date,
        "discharge_diagnoses": list(bill.diagnoses),
        "total_fen": bill.total_fen,
        "eligible_fen": bill.eligible_fen,
        "ineligible_fen": bill.ineligible_fen,
        "invoice_no": bill.invoice_no,
    }
