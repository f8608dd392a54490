"""The audits of reimbursement (pure): enrolled on the admission day, a remote-care filing where
one is required, the claim deadline, and a reversal taking one settlement out of the totals."""

import dataclasses
from datetime import date

import pytest

from chs_events.read_models.enrollments import Enrollment
from chs_events.read_models.filings import Filing
from chs_reimbursement import domain
from chs_reimbursement.calculator import Accumulators, load_policy
from chs_reimbursement.model import Bill

QINGDAO, SHINAN, JINAN_LIXIA, SANYA = "370200", "370202", "370102", "460200"
RESIDENT = Enrollment("N-390", "p1", "390", QINGDAO, date(2020, 1, 1))
EMPLOYEE = Enrollment("N-310", "p1", "310", QINGDAO, date(2024, 1, 1), date(2026, 6, 30))


def bill(place: str = SHINAN, admitted: date = date(2026, 3, 10), **changes) -> Bill:
    values = {
        "institution_code": "H1",
        "institution_name": "医院",
        "institution_level": 3,
        "institution_region": place,
        "visit_type": "inpatient",
        "admission_date": admitted,
        "discharge_date": admitted.replace(day=admitted.day + 5),
        "diagnoses": ("C34.9",),
        "eligible_fen": 1_000_000,
        "ineligible_fen": 0,
        "invoice_no": "INV-1",
    }
    return Bill(**{**values, **changes})


def filing(
    filing_type: str,
    valid_from: date,
    valid_until: date | None = None,
    revoked_on: date | None = None,
    destination: str = SANYA,
) -> Filing:
    return Filing(
        f"F-{filing_type}",
        "p1",
        filing_type,
        "referral",
        destination,
        valid_from,
        valid_until,
        revoked_on,
    )


def test_care_in_the_home_city_needs_no_filing_and_the_employee_enrollment_comes_first():
    terms = domain.terms_of(bill(), [RESIDENT, EMPLOYEE], [])
    assert (terms.enrollment_id, terms.insutype, terms.filing, terms.basis) == (
        "N-310",
        "310",
        "none",
        "home_city",
    )
    after_the_job = domain.terms_of(bill(admitted=date(2026, 7, 1)), [RESIDENT, EMPLOYEE], [])
    assert after_the_job.insutype == "390"


def test_no_enrollment_on_the_admission_day_is_refused():
    with pytest.raises(domain.Refused) as refused:
        domain.terms_of(bill(admitted=date(2019, 12, 1)), [RESIDENT], [])
    assert refused.value.rule == "not_enrolled"
    assert refused.value.reason == "2019-12-01就医时未处于参保状态"


def test_care_outside_the_province_needs_a_filing_long_term_before_temporary():
    temporary = filing("temporary", date(2026, 1, 1), date(2026, 6, 30))
    long_term = filing("long_term", date(2026, 3, 1))
    terms = domain.terms_of(bill(SANYA), [RESIDENT], [temporary, long_term])
    assert (terms.filing, terms.filing_id, terms.basis) == ("long_term", "F-long_term", "filing")
    only_temporary = domain.terms_of(bill(SANYA), [RESIDENT], [temporary])
    assert (only_temporary.filing, only_temporary.filing_id) == ("temporary", "F-temporary")


def test_a_revoked_expired_or_elsewhere_filing_covers_nothing():
    filings = [
        filing("long_term", date(2025, 1, 1), revoked_on=date(2026, 3, 10)),
        filing("temporary", date(2025, 6, 1), date(2025, 11, 30)),
        filing("long_term", date(2025, 1, 1), destination="310000"),
    ]
    with pytest.raises(domain.Refused) as refused:
        domain.terms_of(bill(SANYA), [RESIDENT], filings)
    assert refused.value.rule == "no_remote_care_filing"
    assert "三亚" in refused.value.reason


def test_in_the_province_and_in_an_emergency_no_filing_is_needed():
    in_province = domain.terms_of(bill(JINAN_LIXIA), [RESIDENT], [])
    assert (in_province.filing, in_province.basis) == ("none", "in_province")
    emergency = domain.terms_of(bill(SANYA, emergency=True), [RESIDENT], [])
    assert (emergency.filing, emergency.basis, emergency.filing_id) == (
        "temporary",
        "emergency",
        None,
    )


def test_the_policy_is_the_pooling_regions_of_the_year_of_the_last_service_day():
    terms = domain.terms_of(bill(), [RESIDENT], [])
    assert domain.policy_of(terms, bill()).year == 2026
    with pytest.raises(domain.Refused) as refused:
        domain.policy_of(terms, bill(admitted=date(2024, 3, 10)))
    assert refused.value.rule == "no_policy"


def test_a_district_pooling_region_is_settled_under_its_citys_policy():
    """An enrollment pooled in 市南区 (370202) is under Qingdao's (370200) policy."""
    in_shinan = dataclasses.replace(RESIDENT, pooling_region=SHINAN)
    terms = domain.terms_of(bill(), [in_shinan], [])

    assert (terms.region, domain.policy_of(terms, bill()).region) == (SHINAN, QINGDAO)


def test_a_claim_is_due_within_the_policys_deadline_days_of_the_last_service_day():
    policy = load_policy(QINGDAO, 2026)
    assert policy.claims.deadline_days == 365
    stay = bill(admitted=date(2026, 3, 10))  # discharged 2026-03-15
    domain.check_deadline(stay, policy, date(2027, 3, 15))
    with pytest.raises(domain.Refused) as refused:
        domain.check_deadline(stay, policy, date(2027, 3, 16))
    assert (refused.value.rule, refused.value.reason) == (
        "claim_deadline_passed",
        "已超过报销时限（2027-03-15前申请）",
    )


def test_a_reversal_takes_one_settlements_part_out_of_the_totals():
    before = Accumulators(2026, basic_inpatient_paid_fen=100, admissions=1)
    after = Accumulators(
        2026, basic_inpatient_paid_fen=700, admissions=2, critical_illness_counted_fen=50
    )
    later = Accumulators(
        2026, basic_inpatient_paid_fen=1_000, admissions=3, critical_illness_counted_fen=80
    )  # another settlement since
    assert domain.undone(later, before, after) == Accumulators(
        2026, basic_inpatient_paid_fen=400, admissions=2, critical_illness_counted_fen=30
    )
    with pytest.raises(ValueError):
        domain.undone(Accumulators(2027), before, after)
