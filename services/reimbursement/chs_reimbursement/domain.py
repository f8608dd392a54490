"""The audits of reimbursement (审核) and what follows from them. No I/O.

A bill — settled directly at the institution or claimed by the person — is paid only when:

- ``not_enrolled``: the person had an active enrollment on the admission (visit) day; the
  employee one (310) before the resident one (390);
- ``no_remote_care_filing``: care outside the home city is covered: by a filing for the place
  on that day (long-term before temporary), or it is inside the home province (temporary care
  there needs no filing), or it is an emergency (counts as a temporary filing);
- ``claim_deadline_passed`` (claims only): submitted within the policy's ``deadline_days`` of
  the last service day;
- ``no_policy``: the pooling region has a policy for the year of the last service day;
- ``invoice_already_reimbursed``: the invoice (its number at its institution: each
  institution numbers its own) is not already reimbursed by another settlement or claim
  (checked with a unique key in the database, see ``repository.reserve_invoice``).

A direct settlement that fails one is refused (422, or 409 for the invoice); a claim that
fails one is rejected with the rule and a reason the person can read.

Also the values the rules judge and find (a ``Bill``, the ``Terms`` it is settled under), the
rules of the aggregates' changes (``WrongStatus``, ``check_paid_on``) and the domain errors.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Literal, cast

from chs_events.errors import Conflict, InvalidField, NotFound, Rejected
from chs_events.read_models.enrollments import Enrollment, home_enrollment
from chs_events.read_models.filings import Filing, covering
from chs_events.regions import pooling_region, region, same_city, same_province
from chs_events.vocabulary import Insutype
from chs_reimbursement.calculator import (
    Accumulators,
    FilingCategory,
    InvalidPolicy,
    Policy,
    Visit,
    load_policy,
)

NOT_ENROLLED = "not_enrolled"
NO_FILING = "no_remote_care_filing"
DEADLINE_PASSED = "claim_deadline_passed"
NO_POLICY = "no_policy"
INVOICE_REIMBURSED = "invoice_already_reimbursed"


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
        return Visit(
            self.visit_type,
            self.institution_level,
            self.institution_region,
            self.admission_date,
            self.discharge_date,
            self.diagnoses,
            self.eligible_fen,
            self.ineligible_fen,
        )


@dataclass(frozen=True)
class Terms:
    """What the audits found a bill is settled under: the enrollment, its insured type and
    pooling region, and the remote-care filing category (with the filing, if one was needed)."""

    enrollment_id: str
    insutype: Insutype
    region: str
    filing: FilingCategory
    filing_id: str | None
    basis: str


class Refused(Rejected):
    """An audit failed: ``rule`` names it, ``reason`` says it to the person (Chinese)."""

    def __init__(self, rule: str, detail: str, reason: str) -> None:
        super().__init__(detail, rule=rule, reason=reason)
        self.rule, self.reason = rule, reason


class InvoiceReimbursed(Conflict):
    rule, reason = INVOICE_REIMBURSED, "该发票已报销或已结算，不能重复报销"

    def __init__(self, invoice_no: str, reimbursed_by: str) -> None:
        super().__init__(
            f"invoice {invoice_no} is already reimbursed by {reimbursed_by}",
            rule=self.rule,
            reason=self.reason,
            reimbursed_by=reimbursed_by,
        )


class SettlementNotFound(NotFound):
    pass


class ClaimNotFound(NotFound):
    pass


class WrongStatus(Conflict):
    pass


def terms_of(bill: Bill, enrollments: Iterable[Enrollment], filings: Iterable[Filing]) -> Terms:
    """The enrollment and filing category a bill is settled under, or ``Refused``."""
    day, place = bill.admission_date, bill.institution_region
    enrollments = list(enrollments)
    enrollment = home_enrollment(enrollments, day)
    if enrollment is None:
        raise Refused(
            NOT_ENROLLED, f"no active enrollment on {day}", f"{day.isoformat()}就医时未处于参保状态"
        )
    # The read models keep the events' validated codes as plain str.
    insutype, home = cast(Insutype, enrollment.insutype), enrollment.pooling_region

    def terms(filing: FilingCategory, basis: str, filing_id: str | None = None) -> Terms:
        return Terms(enrollment.enrollment_id, insutype, home, filing, filing_id, basis)

    if same_city(place, home):
        return terms("none", "home_city")
    filing = covering(filings, place, day)
    if filing is not None:
        return terms(cast(FilingCategory, filing.filing_type), "filing", filing.filing_id)
    if same_province(place, home):
        return terms("none", "in_province")
    if bill.emergency:
        return terms("temporary", "emergency")
    raise Refused(
        NO_FILING,
        f"no remote-care filing covers {place} on {day}",
        f"在{region(place).name}异地就医未办理异地就医备案",
    )


def policy_of(terms: Terms, bill: Bill) -> Policy:
    """The policy of the pooling region (a district's or county's is its city's) for the year
    of the last service day."""
    year = bill.service_end.year
    try:
        return load_policy(pooling_region(terms.region), year)
    except InvalidPolicy:
        raise Refused(
            NO_POLICY,
            f"no policy for region {terms.region} and year {year}",
            f"参保地{year}年度待遇政策暂未发布",
        ) from None


def check_deadline(bill: Bill, policy: Policy, submitted_on: date) -> None:
    last_day = bill.service_end + timedelta(days=policy.claims.deadline_days)
    if submitted_on > last_day:
        raise Refused(
            DEADLINE_PASSED,
            f"claims for care ending {bill.service_end} were due by {last_day}",
            f"已超过报销时限（{last_day.isoformat()}前申请）",
        )


def check_paid_on(paid_on: date, submitted_on: date, today: date) -> None:
    if paid_on > today:
        raise InvalidField("paid_on", f"{paid_on} is in the future")
    if paid_on < submitted_on:
        raise InvalidField(
            "paid_on", f"{paid_on} is before the claim was submitted ({submitted_on})"
        )


def undone(current: Accumulators, before: Accumulators, after: Accumulators) -> Accumulators:
    """The person's totals with one settlement's contribution (``after − before``) taken out,
    whatever was settled since."""
    if not current.year == before.year == after.year:
        raise ValueError("accumulators of different years")
    return Accumulators(
        current.year,
        **{
            f.name: max(
                0, getattr(current, f.name) - (getattr(after, f.name) - getattr(before, f.name))
            )
            for f in fields(Accumulators)
            if f.name != "year"
        },
    )
