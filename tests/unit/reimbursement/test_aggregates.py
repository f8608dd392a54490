"""The aggregates' methods (pure): a settlement settled and reversed once, a claim approved or
rejected by its audits and paid once, each returning the new state and the event it raises."""

from datetime import UTC, date, datetime

import pytest

from chs_events.errors import Conflict, InvalidField
from chs_events.events.reimbursement import (
    ClaimApproved,
    ClaimPaid,
    ClaimRejected,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
)
from chs_reimbursement.calculator import Accumulators, Line, Split
from chs_reimbursement.model import Bill, Claim, Settlement, Submission, Terms

PERSON = "p" + "0" * 32
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)
BILL = Bill(
    "H1",
    "医院",
    3,
    "370202",
    "inpatient",
    date(2026, 11, 10),
    date(2026, 11, 18),
    ("C34.9",),
    1_000_000,
    50_000,
    "INV-1",
)
TERMS = Terms("N-390", "390", "370200", "none", None, "home_city")
SPLIT = Split(
    1_050_000,
    1_000_000,
    50_000,
    600_000,
    100_000,
    50_000,
    300_000,
    (
        Line("pooled_fund", 600_000, "basic"),
        Line("critical_illness", 100_000, "ci"),
        Line("medical_assistance", 50_000, "ma"),
        Line("personal_cash", 300_000, "cash"),
    ),
    Accumulators(2026, admissions=1),
)


def settled() -> tuple[Settlement, SettlementCompleted]:
    return Settlement.settle("S1", PERSON, BILL, TERMS, False, SPLIT, Accumulators(2026), AT)


def submission() -> Submission:
    return Submission("C1", PERSON, BILL, date(2026, 11, 20), AT)


def approved() -> Claim:
    return submission().approve(TERMS, SPLIT, Accumulators(2026), AT)[0]


def test_a_settlement_is_completed_with_its_split_in_the_event():
    settlement, event = settled()
    assert (settlement.status, settlement.settled_at) == ("completed", AT)
    assert (event.settlement_id, event.person_id, event.invoice_no, event.settled_at) == (
        "S1",
        PERSON,
        "INV-1",
        AT,
    )
    assert (
        event.pooled_fund_fen,
        event.critical_illness_fen,
        event.medical_assistance_fen,
        event.personal_cash_fen,
    ) == (600_000, 100_000, 50_000, 300_000)
    assert [line.tier for line in event.lines] == [
        "pooled_fund",
        "critical_illness",
        "medical_assistance",
        "personal_cash",
    ]


def test_a_settlement_is_reversed_once():
    settlement, _ = settled()
    later = datetime(2026, 11, 21, tzinfo=UTC)
    reversed_, event = settlement.reverse(later, "settlement_data_error")
    assert (reversed_.status, reversed_.reversed_at, reversed_.reversal_reason_code) == (
        "reversed",
        later,
        "settlement_data_error",
    )
    assert settlement.status == "completed"  # the aggregate is a value: a new one is returned
    assert isinstance(event, SettlementReversed)
    assert (event.settlement_id, event.reason_code, event.reversed_at, event.total_fen) == (
        "S1",
        "settlement_data_error",
        later,
        1_050_000,
    )
    with pytest.raises(Conflict, match="already reversed") as raised:
        reversed_.reverse(later, "duplicate_settlement")
    assert raised.value.extensions["status_now"] == "reversed"


def test_a_submission_is_approved_with_the_split_or_rejected_with_the_rule():
    assert isinstance(submission().submitted(), ClaimSubmitted)
    claim, event = submission().approve(TERMS, SPLIT, Accumulators(2026), AT)
    assert (claim.status, claim.payable_fen) == ("approved", 750_000)
    assert isinstance(event, ClaimApproved)
    assert (event.claim_id, event.pooled_fund_fen, event.remote_care_filing_id) == (
        "C1",
        600_000,
        None,
    )
    rejected, refusal = submission().reject("not_enrolled", "未参保", AT)
    assert (rejected.status, rejected.rule, rejected.reason, rejected.payable_fen) == (
        "rejected",
        "not_enrolled",
        "未参保",
        0,
    )
    assert isinstance(refusal, ClaimRejected)
    assert (refusal.rule, refusal.reason, refusal.invoice_no) == ("not_enrolled", "未参保", "INV-1")


def test_an_approved_claim_is_paid_and_the_same_payment_again_changes_nothing():
    claim = approved()
    paid, event = claim.pay(date(2026, 11, 22), "BANK-1", TODAY)
    assert (paid.status, paid.paid_on, paid.payment_reference) == (
        "paid",
        date(2026, 11, 22),
        "BANK-1",
    )
    assert isinstance(event, ClaimPaid)
    assert (event.amount_fen, event.paid_on, event.payment_reference) == (
        750_000,
        date(2026, 11, 22),
        "BANK-1",
    )
    again, no_event = paid.pay(date(2026, 11, 23), "BANK-1", TODAY)
    assert (again, no_event) == (paid, None)


def test_paid_on_defaults_to_today():
    paid, event = approved().pay(None, "BANK-1", TODAY)
    assert paid.paid_on == TODAY
    assert event is not None and event.paid_on == TODAY


def test_only_an_approved_claim_is_paid():
    rejected, _ = submission().reject("not_enrolled", "未参保", AT)
    with pytest.raises(Conflict, match="only an approved claim is paid") as raised:
        rejected.pay(TODAY, "BANK-1", TODAY)
    assert raised.value.extensions["status_now"] == "rejected"
    paid, _ = approved().pay(TODAY, "BANK-1", TODAY)
    with pytest.raises(Conflict, match="is paid"):
        paid.pay(TODAY, "BANK-2", TODAY)  # another payment of a paid claim


def test_a_payment_dated_in_the_future_or_before_the_submission_is_refused():
    with pytest.raises(InvalidField, match="in the future") as raised:
        approved().pay(date(2026, 11, 26), "BANK-1", TODAY)
    assert raised.value.extensions["errors"][0]["field"] == "paid_on"
    with pytest.raises(InvalidField, match="before the claim was submitted"):
        approved().pay(date(2026, 11, 19), "BANK-1", TODAY)
