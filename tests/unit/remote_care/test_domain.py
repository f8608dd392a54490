"""The filing rules of remote care (异地就医备案) and the coverage answer. No I/O."""

from datetime import UTC, date, datetime
from typing import get_args

import pytest

from chs_events.events.remote_care import (
    CATEGORY_NAMES,
    FILING_TYPE_NAMES,
    FilingCategory,
    FilingType,
)
from chs_events.problems import domain_problem
from chs_events.read_models.enrollments import Enrollment
from chs_remote_care import domain
from chs_remote_care.domain import Overlaps, Refused
from chs_remote_care.model import Filing

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 22)
JINAN, LIXIA, QINGDAO = "370100", "370102", "370200"
SANYA, HAINAN, SHANGHAI, BEIJING = "460200", "460000", "310000", "110000"
RESIDENT = Enrollment("en-1", "p1", "390", JINAN, date(2020, 1, 1))


def file(
    filing_type="long_term",
    category="relocated_retiree",
    destination=SANYA,
    *,
    enrollments=(RESIDENT,),
    filings=(),
    today=TODAY,
    **dates,
):
    return domain.check_filing(
        filing_type=filing_type,
        category=category,
        destination=destination,
        enrollments=enrollments,
        filings=filings,
        today=today,
        **dates,
    )


def filing(
    filing_type="long_term",
    category="relocated_retiree",
    destination=SANYA,
    *,
    valid_from=TODAY,
    valid_until=None,
    status="active",
    revoked_on=None,
    filing_id="f-1",
    filed_on=None,
    admission_date=None,
) -> Filing:
    return Filing(
        filing_id,
        "p1",
        filing_type,
        category,
        destination,
        JINAN,
        "390",
        "en-1",
        valid_from,
        valid_until,
        filed_on or valid_from,
        admission_date,
        status=status,
        revoked_on=revoked_on,
    )


def refused_rule(call) -> str:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value.extensions["rule"]


# --- filing ------------------------------------------------------------------------------------


def test_long_term_is_valid_from_today_until_revoked_under_the_active_enrollment():
    terms = file()
    assert (terms.valid_from, terms.valid_until, terms.enrollment) == (TODAY, None, RESIDENT)


def test_temporary_is_valid_six_months():
    terms = file("temporary", "referral", SHANGHAI)
    assert (terms.valid_from, terms.valid_until) == (TODAY, date(2027, 5, 21))


@pytest.mark.parametrize(
    ("start", "until"),
    [
        (date(2026, 8, 31), date(2027, 2, 27)),
        (date(2026, 1, 1), date(2026, 6, 30)),
        (date(2026, 7, 15), date(2027, 1, 14)),
    ],
)
def test_six_months_clamps_to_the_months_end(start, until):
    assert domain.temporary_valid_until(start) == until


def test_an_employee_enrollment_is_preferred_to_a_resident_one():
    employee = Enrollment("en-2", "p1", "310", QINGDAO, date(2024, 1, 1))
    assert file(enrollments=(RESIDENT, employee)).enrollment == employee


def test_refused_without_an_active_enrollment():
    ended = Enrollment("en-1", "p1", "390", JINAN, date(2020, 1, 1), date(2026, 6, 30))
    assert refused_rule(lambda: file(enrollments=())) == domain.NO_ACTIVE_ENROLLMENT
    assert refused_rule(lambda: file(enrollments=(ended,))) == domain.NO_ACTIVE_ENROLLMENT
    future = Enrollment("en-1", "p1", "390", JINAN, date(2027, 1, 1))
    assert refused_rule(lambda: file(enrollments=(future,))) == domain.NO_ACTIVE_ENROLLMENT


@pytest.mark.parametrize("destination", [JINAN, LIXIA])
def test_refused_inside_the_home_city(destination):
    with pytest.raises(Refused) as refused:
        file(destination=destination)
    assert refused.value.extensions["rule"] == domain.DESTINATION_IN_HOME_CITY
    assert refused.value.extensions["errors"][0]["field"] == "destination_region"
    assert domain_problem(refused.value)[0] == 422


def test_long_term_to_another_city_of_the_province_is_accepted():
    assert file(destination=QINGDAO).valid_until is None


def test_a_second_active_long_term_filing_overlaps():
    existing = filing(destination=HAINAN, valid_from=date(2025, 3, 1))
    with pytest.raises(Overlaps) as overlap:
        file(filings=[existing])
    assert domain_problem(overlap.value)[0] == 409
    assert overlap.value.extensions == {"rule": domain.LONG_TERM_OVERLAP, "filing_id": "f-1"}


@pytest.mark.parametrize("status", ["revoked", "expired"])
def test_an_ended_long_term_filing_does_not_overlap(status):
    ended = filing(
        valid_from=date(2025, 3, 1),
        status=status,
        revoked_on=date(2026, 1, 1) if status == "revoked" else None,
    )
    assert file(filings=[ended]).valid_until is None


def test_temporary_filings_do_not_block_a_long_term_one_nor_each_other():
    temporary = filing("temporary", "referral", SHANGHAI, valid_until=date(2027, 5, 21))
    assert file(filings=[temporary]).valid_until is None
    assert file("temporary", "referral", BEIJING, filings=[temporary]).valid_until


@pytest.mark.parametrize(
    ("filing_type", "category"), [("long_term", "emergency"), ("temporary", "relocated_retiree")]
)
def test_the_category_must_belong_to_the_type(filing_type, category):
    assert refused_rule(lambda: file(filing_type, category, SHANGHAI)) == domain.CATEGORY_OF_TYPE


def test_temporary_care_inside_the_province_needs_no_filing():
    assert (
        refused_rule(lambda: file("temporary", "referral", QINGDAO)) == domain.IN_PROVINCE_NO_FILING
    )


def test_temporary_is_back_dated_to_the_admission_date_before_discharge():
    admitted = date(2026, 11, 10)
    terms = file("temporary", "referral", SHANGHAI, admission_date=admitted)
    assert (terms.valid_from, terms.valid_until, terms.admission_date) == (
        admitted,
        date(2027, 5, 9),
        admitted,
    )
    still_in = file(
        "temporary", "self_referred", SHANGHAI, admission_date=admitted, discharge_date=TODAY
    )  # settled at discharge, later today
    assert still_in.valid_from == admitted


def test_no_back_dating_after_the_discharge_was_settled():
    with pytest.raises(Refused) as refused:
        file(
            "temporary",
            "referral",
            SHANGHAI,
            admission_date=date(2026, 11, 1),
            discharge_date=date(2026, 11, 20),
        )
    assert refused.value.extensions["rule"] == domain.BACK_DATING
    assert refused.value.extensions["errors"][0]["field"] == "discharge_date"


def test_an_emergency_counts_as_filed_even_after_discharge():
    terms = file(
        "temporary",
        "emergency",
        SHANGHAI,
        admission_date=date(2026, 11, 1),
        discharge_date=date(2026, 11, 5),
    )
    assert terms.valid_from == date(2026, 11, 1)


def stay(
    admitted: date,
    discharged: date | None,
    region: str = "310000",
    settlement_id: str = "S-1",
) -> "domain.SettledStay":
    """A stay whose settlement the server knows of (chs.reimbursement.events)."""
    return domain.SettledStay(
        settlement_id,
        "p1",
        admitted,
        discharged,
        region,
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
    )


def test_no_back_dating_for_a_stay_the_server_knows_settled_whatever_the_caller_claims():
    settled = (stay(date(2026, 11, 1), date(2026, 11, 20)),)
    for claimed in ({}, {"discharge_date": TODAY}, {"discharge_date": date(2026, 11, 30)}):
        with pytest.raises(Refused) as refused:
            file(
                "temporary",
                "referral",
                SHANGHAI,
                admission_date=date(2026, 11, 1),
                settled=settled,
                **claimed,
            )
        assert refused.value.extensions["rule"] == domain.BACK_DATING
        assert refused.value.extensions["errors"][0]["field"] == "admission_date"
        assert "2026-11-20" in str(refused.value)
    # a filing back-dated into the settled stay's last day is refused too
    assert (
        refused_rule(
            lambda: file(
                "temporary",
                "self_referred",
                SHANGHAI,
                admission_date=date(2026, 11, 20),
                settled=settled,
            )
        )
        == domain.BACK_DATING
    )
    # an outpatient visit settled (no discharge date) is a stay of its one day
    visit = (stay(date(2026, 11, 15), None),)
    assert (
        refused_rule(
            lambda: file(
                "temporary", "referral", SHANGHAI, admission_date=date(2026, 11, 10), settled=visit
            )
        )
        == domain.BACK_DATING
    )


def test_a_settled_stay_elsewhere_or_on_other_days_leaves_back_dating_open():
    admitted = date(2026, 11, 10)
    settled = (
        # the home hospital's stay that ended in the referral, settled on the transfer day
        stay(date(2026, 11, 1), admitted, region=JINAN, settlement_id="S-home"),
        # a stay in the destination that ended before this admission
        stay(date(2026, 10, 1), date(2026, 11, 9), settlement_id="S-before"),
        # a stay in a region the registry does not know (another province)
        stay(date(2026, 11, 1), TODAY, region="440399", settlement_id="S-unknown"),
    )
    terms = file("temporary", "referral", SHANGHAI, admission_date=admitted, settled=settled)
    assert terms.valid_from == admitted
    # not back-dated: a filing from today is not refused for what was settled before
    assert file("temporary", "referral", SHANGHAI, settled=settled).valid_from == TODAY


def test_an_emergency_counts_as_filed_even_for_a_stay_the_server_knows_settled():
    terms = file(
        "temporary",
        "emergency",
        SHANGHAI,
        admission_date=date(2026, 11, 1),
        settled=(stay(date(2026, 11, 1), date(2026, 11, 5)),),
    )
    assert terms.valid_from == date(2026, 11, 1)


def test_a_settled_stay_in_a_part_of_the_destination_is_matched():
    settled = (stay(date(2026, 11, 1), date(2026, 11, 20), region="460200"),)
    assert (
        refused_rule(
            lambda: file(
                "temporary", "referral", HAINAN, admission_date=date(2026, 11, 1), settled=settled
            )
        )
        == domain.BACK_DATING
    )


def test_back_dating_stays_within_the_enrollment_and_the_validity():
    late_enrollment = Enrollment("en-1", "p1", "390", JINAN, date(2026, 11, 15))
    assert (
        refused_rule(
            lambda: file(
                "temporary",
                "emergency",
                SHANGHAI,
                enrollments=(late_enrollment,),
                admission_date=date(2026, 11, 10),
            )
        )
        == domain.ADMISSION_DATE
    )
    assert (
        refused_rule(
            lambda: file("temporary", "emergency", SHANGHAI, admission_date=date(2026, 4, 1))
        )
        == domain.ADMISSION_DATE
    )
    assert refused_rule(lambda: file(admission_date=date(2026, 11, 10))) == domain.ADMISSION_DATE


def test_only_an_active_filing_is_revoked():
    domain.check_revoke(filing())
    with pytest.raises(domain.NotActive):
        domain.check_revoke(filing(status="revoked", revoked_on=TODAY))


def test_a_temporary_filing_is_due_to_expire_the_day_after_its_last_day():
    temporary = filing("temporary", "referral", SHANGHAI, valid_until=date(2027, 5, 21))
    assert not domain.due_to_expire(temporary, date(2027, 5, 21))
    assert domain.due_to_expire(temporary, date(2027, 5, 22))
    assert not domain.due_to_expire(filing(), date(2099, 1, 1))


def test_revoking_returns_the_revoked_filing_and_its_event():
    revoked, event = filing().revoke(TODAY, "已回参保地居住")
    assert (revoked.status, revoked.revoked_on, revoked.revoke_reason) == (
        "revoked",
        TODAY,
        "已回参保地居住",
    )
    assert (event.filing_id, event.revoked_on, event.reason) == ("f-1", TODAY, "已回参保地居住")
    with pytest.raises(domain.NotActive):
        revoked.revoke(TODAY)


def test_expiring_returns_the_expired_filing_and_its_event_only_when_due():
    temporary = filing("temporary", "referral", SHANGHAI, valid_until=date(2027, 5, 21))
    with pytest.raises(domain.NotActive):
        temporary.expire(date(2027, 5, 21))
    expired, event = temporary.expire(date(2027, 5, 22))
    assert expired.status == "expired"
    assert (event.filing_id, event.valid_until) == ("f-1", date(2027, 5, 21))
    with pytest.raises(domain.NotActive):
        expired.expire(date(2027, 5, 22))


# --- coverage ----------------------------------------------------------------------------------


def cover(place, day=TODAY, filings=(), enrollments=(RESIDENT,), emergency=False):
    return domain.coverage(
        place=place, day=day, enrollments=enrollments, filings=filings, emergency=emergency
    )


def test_coverage_by_a_long_term_filing_from_its_day_on():
    long_term = filing(destination=QINGDAO)
    answer = cover("370212", date(2030, 1, 1), [long_term])  # a district of the city filed for
    assert (answer.covered, answer.basis, answer.filing) == (True, "filing", long_term)
    assert cover(SANYA, filings=[filing()]).home_region == JINAN
    assert not cover(SANYA, date(2026, 11, 21), [filing()]).covered  # before it was filed


def test_a_province_filing_covers_its_cities():
    hainan = filing(destination=HAINAN)
    assert cover(SANYA, filings=[hainan]).filing == hainan


def test_a_temporary_filing_covers_six_months_and_back_dated_days():
    temporary = filing(
        "temporary",
        "emergency",
        SHANGHAI,
        valid_from=date(2026, 11, 10),
        valid_until=date(2027, 5, 9),
        filed_on=TODAY,
        admission_date=date(2026, 11, 10),
    )
    assert cover(SHANGHAI, date(2026, 11, 10), [temporary]).basis == "filing"
    assert cover(SHANGHAI, date(2027, 5, 9), [temporary]).covered
    assert not cover(SHANGHAI, date(2027, 5, 10), [temporary]).covered
    assert not cover(BEIJING, date(2026, 12, 1), [temporary]).covered


def test_a_revoked_filing_covers_until_the_day_before_revocation():
    revoked = filing(status="revoked", revoked_on=date(2026, 12, 1))
    assert cover(SANYA, date(2026, 11, 30), [revoked]).covered
    answer = cover(SANYA, date(2026, 12, 1), [revoked])
    assert (answer.covered, answer.basis) == (False, None)


def test_home_city_and_in_province_care_need_no_filing():
    assert cover(LIXIA).basis == "home_city"
    in_province = cover(QINGDAO)
    assert (in_province.covered, in_province.basis, in_province.filing) == (
        True,
        "in_province",
        None,
    )


def test_emergency_counts_as_filed_and_otherwise_care_elsewhere_is_not_covered():
    assert cover(SHANGHAI, emergency=True).basis == "emergency"
    answer = cover(SHANGHAI)
    assert (answer.covered, answer.basis, answer.insutype) == (False, None, "390")


def test_no_cover_without_an_active_enrollment_on_the_day():
    ended = Enrollment("en-1", "p1", "390", JINAN, date(2020, 1, 1), date(2026, 6, 30))
    assert cover(LIXIA, date(2026, 6, 30), enrollments=(ended,)).covered
    answer = cover(
        SANYA, date(2026, 7, 1), [filing(valid_from=date(2025, 1, 1))], enrollments=(ended,)
    )
    assert (answer.covered, answer.home_region) == (False, None)


def test_every_filing_type_and_category_has_the_name_a_person_reads() -> None:
    assert set(CATEGORY_NAMES) == set(get_args(FilingCategory))
    assert set(FILING_TYPE_NAMES) == set(get_args(FilingType))
