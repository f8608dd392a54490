"""The segment matcher (pure): each criterion alone, the ones always applied (alive, not opted
out, enrolled unless told otherwise), a bad rule refused, an agency's region."""

from datetime import date

import pytest
from pydantic import ValidationError

from chs_push.rules.profile import Enrollment, Filing, Profile
from chs_push.rules.segments import (
    OutsideRegion,
    Segment,
    compiled,
    matches,
    region_prefix_of,
    within,
    years_before,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 3, 10)


def person(**fields) -> Profile:
    """Enrolled in Qingdao (310, employer E1), born 1980-05-01, a woman, nothing else."""
    given = {
        "sex": "F",
        "birth_date": date(1980, 5, 1),
        "home_region": "370202",
        "enrollments": (Enrollment("EN1", "310", "370202", date(2020, 1, 1), "E1"),),
        **fields,
    }
    return Profile("p1", **given)


def hit(profile: Profile, **rule) -> bool:
    return matches(Segment(**rule), profile, TODAY)


def test_an_empty_rule_matches_the_living_enrolled_not_opted_out():
    assert hit(person())
    assert not hit(person(date_of_death=date(2026, 1, 1)))
    assert not hit(person(opted_out=True))
    assert not hit(person(enrollments=()))
    assert hit(person(enrollments=()), enrolled_only=False)
    assert not hit(person(enrollments=(), date_of_death=TODAY), enrolled_only=False)


def test_insured_types():
    resident = person(enrollments=(Enrollment("EN2", "390", "370202", date(2020, 1, 1)),))
    assert hit(person(), insured_types=["310"])
    assert not hit(person(), insured_types=["390", "392"])
    assert hit(resident, insured_types=["392"])
    assert hit(resident, insured_types=["310", "390"])


def test_region_prefix():
    assert hit(person(), region_prefix="37")
    assert hit(person(), region_prefix="3702")
    assert hit(person(), region_prefix="370202")
    assert not hit(person(), region_prefix="3701")
    nowhere = person(enrollments=(), home_region=None)
    assert not hit(nowhere, region_prefix="37", enrolled_only=False)


@pytest.mark.parametrize(
    ("birth", "rule", "expected"),
    [
        (date(1980, 3, 10), {"age_min": 46}, True),  # 46 today
        (date(1980, 3, 11), {"age_min": 46}, False),  # 46 tomorrow
        (date(1980, 3, 10), {"age_max": 45}, False),
        (date(1980, 3, 11), {"age_max": 45}, True),
        (date(1990, 1, 1), {"age_min": 30, "age_max": 40}, True),
        (date(1985, 1, 1), {"age_min": 30, "age_max": 40}, False),  # 41
        (date(1966, 3, 10), {"elderly": True}, True),
        (date(1966, 3, 11), {"elderly": True}, False),
        (date(1966, 3, 11), {"elderly": False}, True),
        (date(1966, 3, 10), {"elderly": False}, False),
    ],
)
def test_age_range_and_elderly_on_the_day(birth, rule, expected):
    assert hit(person(birth_date=birth), **rule) is expected


def test_an_unknown_birth_matches_no_age_criterion():
    assert not hit(person(birth_date=None), age_max=100)
    assert not hit(person(birth_date=None), elderly=False)


def test_a_29th_of_february():
    assert years_before(date(2026, 2, 28), 4) == date(2022, 2, 28)
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    leapling = person(birth_date=date(2000, 2, 29))
    assert not matches(Segment(age_min=26), leapling, date(2026, 2, 28))
    assert matches(Segment(age_min=26), leapling, date(2026, 3, 1))


def test_sex_and_employer():
    assert hit(person(), sex="F") and not hit(person(), sex="M")
    assert hit(person(), employer_id="E1") and not hit(person(), employer_id="E2")


def test_conditions_by_code_or_category():
    diabetic = person(conditions=(("C1", "t2dm"),))
    assert hit(diabetic, conditions=["t2dm"])
    assert hit(diabetic, conditions=["hypertension", "t2dm"])
    assert hit(diabetic, conditions=["endocrine"])
    assert hit(diabetic, conditions=["chronic"])
    assert not hit(diabetic, conditions=["special"])
    assert not hit(diabetic, conditions=["circulatory"])
    assert not hit(person(), conditions=["t2dm"])


def test_filing_category_of_an_active_filing():
    referral = Filing("F1", "referral", "110105", date(2026, 1, 1), date(2026, 3, 31))
    assert hit(person(filings=(referral,)), filing_category="referral")
    assert not hit(person(filings=(referral,)), filing_category="emergency")
    ended = Filing("F1", "referral", "110105", date(2026, 1, 1), date(2026, 3, 31), active=False)
    assert not hit(person(filings=(ended,)), filing_category="referral")


def test_maternity_within_days():
    mother = person(allowances=(("A1", date(2026, 1, 9)),))  # 60 days ago
    assert hit(mother, maternity_within_days=60)
    assert not hit(mother, maternity_within_days=59)
    assert not hit(person(), maternity_within_days=365)


def test_assisted_groups():
    assisted = person(assisted_groups=frozenset({"dibao"}))
    assert hit(assisted, assisted_groups=["dibao", "tekun"])
    assert not hit(assisted, assisted_groups=["tekun"])
    assert not hit(person(), assisted_groups=["dibao"])


def test_every_criterion_must_hold():
    profile = person(conditions=(("C1", "t2dm"),))
    assert hit(profile, insured_types=["310"], region_prefix="3702", conditions=["t2dm"])
    assert not hit(profile, insured_types=["310"], region_prefix="3701", conditions=["t2dm"])


def test_a_compiled_rule_is_reused_across_profiles():
    predicate = compiled(Segment(region_prefix="3702"), TODAY)
    found = [predicate(person(home_region=r, enrollments=())) for r in ("370202", "370102")]
    assert found == [False, False]  # not enrolled
    assert predicate(person())


@pytest.mark.parametrize(
    "rule",
    [
        {"conditions": ["diabetes"]},
        {"age_min": 50, "age_max": 40},
        {"region_prefix": "370"},
        {"insured_types": ["320"]},
        {"insured_types": []},
        {"maternity_within_days": 0},
        {"filing_category": "holiday"},
        {"alive": False},
    ],
)
def test_a_bad_rule_is_refused(rule):
    with pytest.raises(ValidationError):
        Segment(**rule)


def test_narrowed_to_an_agency_region():
    assert region_prefix_of("370000") == "37"
    assert region_prefix_of("370200") == "3702"
    assert region_prefix_of("370202") == "370202"
    assert within(Segment(), "370200").region_prefix == "3702"
    assert within(Segment(region_prefix="37"), "370200").region_prefix == "3702"
    assert within(Segment(region_prefix="370203"), "370200").region_prefix == "370203"
    assert within(Segment(region_prefix="3701"), "370000").region_prefix == "3701"
    with pytest.raises(OutsideRegion):
        within(Segment(region_prefix="3701"), "370200")
