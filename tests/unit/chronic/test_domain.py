"""Decision rules of chronic-disease certification, and auto-certification from settlements."""

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

import pytest

from chs_chronic import domain
from chs_chronic.catalog import Condition, load_catalog
from chs_chronic.commands import DecideApplication, Evidence, SubmitApplication
from chs_chronic.domain import AlreadyCertified, NotPending
from chs_chronic.model import Application
from chs_events.errors import InvalidField
from chs_events.events.reimbursement import SettlementCompleted

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 22)
CATALOG = load_catalog()
LAB = Evidence("lab_report", "LIS-1")


def application(
    *diagnoses: str,
    condition: str | None = None,
    discharged: date = TODAY,
    evidence: tuple[Evidence, ...] = (LAB,),
) -> SubmitApplication:
    return SubmitApplication(
        "p1",
        "H37078300001",
        "寿光市人民医院",
        "D1",
        "王医生",
        discharged,
        diagnoses,
        evidence,
        condition,
    )


def decide(command: SubmitApplication, active: Collection[str] = frozenset()) -> domain.Decision:
    return domain.decide_application(command, CATALOG, TODAY, active)


def code(decision: domain.Decision) -> str | None:
    return decision.condition.code if decision.condition else None


def condition(code: str) -> Condition:
    found = CATALOG.get(code)
    assert found is not None
    return found


def test_type_2_diabetes_is_certified_from_its_diagnosis():
    decision = decide(application("E11.9"))
    assert (decision.outcome, code(decision), decision.rule) == ("certify", "t2dm", None)


def test_the_named_condition_is_certified_when_a_diagnosis_falls_in_it():
    decision = decide(application("I10", "E11.9", condition="t2dm"))
    assert (decision.outcome, code(decision)) == ("certify", "t2dm")


def test_a_diagnosis_outside_the_named_condition_is_rejected():
    decision = decide(application("I10", condition="t2dm"))
    assert (decision.outcome, decision.rule) == ("reject", "diagnosis_not_in_condition")
    assert "2型糖尿病" in str(decision.reason)


def test_diagnoses_in_no_catalog_condition_are_rejected():
    decision = decide(application("J18.9"))
    assert (decision.outcome, decision.rule, decision.condition) == (
        "reject",
        "no_catalog_condition",
        None,
    )


def test_diagnoses_naming_several_conditions_wait_for_a_reviewer():
    decision = decide(application("I10", "E11.9"))
    assert (decision.outcome, decision.rule, decision.condition) == (
        "review",
        "several_conditions",
        None,
    )
    assert "高血压病" in str(decision.reason) and "2型糖尿病" in str(decision.reason)


def test_missing_evidence_is_rejected_naming_it():
    decision = decide(application("C34.1", evidence=(LAB,)))
    assert (decision.outcome, decision.rule) == ("reject", "evidence_missing")
    assert decision.reason == "缺少病理报告"


def test_a_condition_requiring_review_waits_for_a_reviewer():
    decision = decide(application("M05.3"))
    assert (decision.outcome, decision.rule, code(decision)) == (
        "review",
        "condition_requires_review",
        "rheumatoid_arthritis",
    )


def test_a_discharge_outside_the_window_is_rejected():
    decision = decide(application("E11.9", discharged=TODAY - timedelta(days=31)))
    assert (decision.outcome, decision.rule) == ("reject", "application_window")
    assert decide(application("E11.9", discharged=TODAY - timedelta(days=30))).outcome == "certify"


def test_an_active_certification_conflicts():
    with pytest.raises(AlreadyCertified):
        decide(application("E11.9"), active={"t2dm"})


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (application("E11.9", discharged=TODAY + timedelta(days=1)), "discharge_date"),
        (application("E11.9", condition="gout_and_more"), "condition_code"),
        (application("E11.9", "X"), "diagnosis_codes.1"),
        (application("E11.9", evidence=(Evidence("selfie", "1"),)), "evidence.0.kind"),
    ],
)
def test_wrong_requests_answer_422_naming_the_field(command, field):
    with pytest.raises(InvalidField) as error:
        decide(command)
    assert error.value.extensions["errors"][0]["field"] == field


def test_validity_runs_the_condition_months_from_the_discharge_day():
    t2dm = condition("t2dm")
    assert domain.validity(t2dm, date(2026, 11, 20)) == (date(2026, 11, 20), date(2028, 11, 19))
    assert domain.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert domain.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def queued(condition_code: str | None, *diagnoses: str) -> Application:
    return Application(
        "a1",
        "p1",
        "H1",
        "医院",
        "D1",
        "医生",
        TODAY,
        diagnoses,
        (),
        None,
        condition_code,
        "pending_review",
        "several_conditions",
        "…",
        datetime(2026, 11, 22, tzinfo=UTC),
    )


def test_a_reviewer_picks_one_of_several_conditions():
    decision = domain.decide_review(
        queued(None, "I10", "E11.9"),
        DecideApplication("a1", "certify", "R1", condition_code="hypertension"),
        CATALOG,
        set(),
    )
    assert (decision.outcome, code(decision)) == ("certify", "hypertension")


def test_a_reviewer_must_pick_a_condition_the_diagnoses_support():
    with pytest.raises(InvalidField):
        domain.decide_review(
            queued(None, "I10"),
            DecideApplication("a1", "certify", "R1", condition_code="t2dm"),
            CATALOG,
            set(),
        )
    with pytest.raises(InvalidField):
        domain.decide_review(
            queued(None, "I10", "E11.9"), DecideApplication("a1", "certify", "R1"), CATALOG, set()
        )


def test_a_refusal_says_why_and_only_a_queued_application_is_decided():
    with pytest.raises(InvalidField):
        domain.decide_review(
            queued("rheumatoid_arthritis", "M05.3"),
            DecideApplication("a1", "reject", "R1"),
            CATALOG,
            set(),
        )
    decision = domain.decide_review(
        queued("rheumatoid_arthritis", "M05.3"),
        DecideApplication("a1", "reject", "R1", reason_code="criteria_not_met"),
        CATALOG,
        set(),
    )
    assert (decision.outcome, decision.rule, decision.reason) == (
        "reject",
        "review_refused",
        "检验检查结果未达到该病种认定标准",
    )
    from dataclasses import replace

    with pytest.raises(NotPending):
        replace(queued("t2dm", "E11.9"), status="certified").decide(
            DecideApplication("a1", "certify", "R1"), CATALOG, set(), datetime.now(UTC)
        )


def settlement(
    *diagnoses: str, visit_type: str = "inpatient", discharged: date = TODAY
) -> SettlementCompleted:
    return SettlementCompleted(
        person_id="p1",
        settlement_id="S1",
        insutype="390",
        institution_code="H1",
        institution_name="潍坊市人民医院",
        institution_level=3,
        institution_region="370700",
        visit_type=visit_type,
        admission_date=discharged - timedelta(days=9),
        discharge_date=discharged,
        discharge_diagnoses=list(diagnoses),
        total_fen=1_000_000,
        eligible_fen=900_000,
        ineligible_fen=100_000,
        pooled_fund_fen=600_000,
        critical_illness_fen=50_000,
        medical_assistance_fen=0,
        personal_cash_fen=350_000,
        invoice_no="INV1",
        settled_at=datetime(2026, 11, 22, 2, tzinfo=UTC),
    )


def test_an_auto_category_in_the_discharge_diagnoses_is_granted():
    grants = domain.auto_grants(settlement("C34.1", "I10", "N18.5"), CATALOG, TODAY)
    assert [(c.code, d) for c, d, _, _ in grants] == [
        ("malignant_tumour", ["C34.1"]),
        ("uraemia_dialysis", ["N18.5"]),
    ]
    _, _, valid_from, valid_until = grants[0]
    assert (valid_from, valid_until) == (TODAY, date(2028, 11, 21))


def test_no_grant_for_conditions_that_need_an_application_outpatient_visits_or_old_stays():
    assert domain.auto_grants(settlement("E11.9", "I10"), CATALOG, TODAY) == []
    outpatient = settlement("C34.1").model_copy(update={"visit_type": "outpatient"})
    assert domain.auto_grants(outpatient, CATALOG, TODAY) == []
    assert (
        domain.auto_grants(
            settlement("A15.0", discharged=TODAY - timedelta(days=400)), CATALOG, TODAY
        )
        == []
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"personal_cash_fen": 1}, "add up"),
        ({"ineligible_fen": 1}, "eligible_fen"),
        ({"discharge_date": None}, "discharge_date"),
        ({"total_fen": 1.5}, "integer"),
    ],
)
def test_settlement_amounts_and_dates_are_checked(change, message):
    data = settlement("C34.1").model_dump()
    with pytest.raises(ValueError, match=message):
        SettlementCompleted.model_validate({**data, **change})
