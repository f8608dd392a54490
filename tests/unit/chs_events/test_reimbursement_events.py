"""The reimbursement event contract refuses amounts that do not add up."""

import re
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from chs_events.events.reimbursement import ClaimApproved, SettlementCompleted, SplitLine

SETTLED = dict(
    person_id="p1",
    settlement_id="S1",
    insutype="390",
    institution_code="H1",
    institution_name="医院",
    institution_level=3,
    institution_region="370202",
    visit_type="inpatient",
    admission_date=date(2026, 11, 10),
    discharge_date=date(2026, 11, 18),
    discharge_diagnoses=["c34.9"],
    total_fen=1_000,
    eligible_fen=900,
    ineligible_fen=100,
    pooled_fund_fen=600,
    critical_illness_fen=0,
    medical_assistance_fen=0,
    personal_cash_fen=400,
    invoice_no="I1",
    settled_at=datetime(2026, 11, 18, tzinfo=UTC),
)


def test_a_consistent_settlement_is_accepted_with_its_codes_normalized():
    event = SettlementCompleted(
        **SETTLED, lines=[SplitLine(tier="pooled_fund", amount_fen=600, rule="basic")]
    )
    assert (event.discharge_diagnoses, event.service_end) == (["C34.9"], date(2026, 11, 18))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"personal_cash_fen": 399}, "must add up to total_fen"),
        ({"eligible_fen": 800}, "eligible_fen + ineligible_fen"),
        ({"pooled_fund_fen": 950, "personal_cash_fen": 50}, "more than the eligible"),
        (
            {"lines": [SplitLine(tier="pooled_fund", amount_fen=599, rule="basic")]},
            "pooled_fund lines do not add up",
        ),
        ({"discharge_date": None}, "needs a discharge_date"),
        ({"pooled_fund_fen": 600.0}, "valid integer"),
    ],
)
def test_amounts_that_do_not_add_up_are_refused(changes, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        SettlementCompleted(**{**SETTLED, **changes})


def test_an_approved_claims_payable_is_what_the_three_funds_pay():
    claim = ClaimApproved(
        person_id="p1",
        claim_id="C1",
        insutype="390",
        invoice_no="I1",
        institution_name="医院",
        total_fen=1_000,
        eligible_fen=1_000,
        pooled_fund_fen=500,
        critical_illness_fen=200,
        medical_assistance_fen=100,
        personal_cash_fen=200,
    )
    assert claim.payable_fen == 800
