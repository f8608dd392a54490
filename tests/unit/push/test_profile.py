"""The push profile's fold (pure): every field from its events, applying an event again changes
nothing (in any order of arrival), death, the opt-out, elderly on a date; the bytes a table
keeps give the same profile back."""

from datetime import UTC, date, datetime, timedelta

import pytest

from chs_events.events.base import Event
from chs_events.events.enrollment import ContactChanged
from chs_push.rules.profile import Profile, apply, dump, load
from tests.unit.push import events as ev

pytestmark = pytest.mark.unit

DAY = date(2026, 3, 10)


def fold(*events: Event, profile: Profile | None = None) -> Profile:
    for event in events:
        applied = apply(profile, ev.envelope(event))
        if applied is not None:
            profile = load(dump(applied))  # kept as bytes between events, as the table keeps it
            assert profile == applied
    assert profile is not None
    return profile


def test_registration_gives_sex_birth_and_region():
    person = ev.new_person()
    profile = fold(ev.registered(person, date(1970, 2, 3), "M", ev.JINAN))
    assert (profile.sex, profile.birth_date) == ("M", date(1970, 2, 3))
    assert profile.home_region == "370102"
    assert profile.region == "370102"  # no enrollment: the region registered in
    assert not profile.enrolled
    assert profile.alive and not profile.opted_out


def test_an_enrollment_gives_type_region_and_employer_until_terminated():
    person = ev.new_person()
    job = ev.enrolled(person, "310", ev.QINGDAO, "E1")
    profile = fold(ev.registered(person, region=ev.JINAN), job)
    assert profile.enrolled
    assert profile.insutypes == {"310"}
    assert (profile.region, profile.employer_id) == (ev.QINGDAO, "E1")
    ended = fold(ev.terminated(person, job.enrollment_id), profile=profile)
    assert not ended.enrolled and ended.insutypes == frozenset()
    assert ended.region == ev.JINAN and ended.employer_id is None
    # a registration delivered again does not reopen it
    assert apply(ended, ev.envelope(job)) is None


def test_a_resident_is_in_the_critical_illness_insurance_too():
    person = ev.new_person()
    profile = fold(ev.enrolled(person, "390"))
    assert profile.insutypes == {"390", "392"}
    assert profile.employer_id is None


def test_the_newest_enrollment_gives_the_region():
    person = ev.new_person()
    profile = fold(
        ev.enrolled(person, "390", ev.JINAN, start=date(2018, 1, 1)),
        ev.enrolled(person, "310", ev.QINGDAO, start=date(2024, 1, 1)),
    )
    assert profile.region == ev.QINGDAO
    assert profile.insutypes == {"310", "390", "392"}


def test_staff_changes_and_a_transfer_change_the_enrollment():
    person = ev.new_person()
    job = ev.enrolled(person, "310", employer_id="E1")
    profile = fold(job, ev.staff_added(person, job.enrollment_id, "E2"))
    assert profile.employer_id == "E2"
    # removed by another employer: the enrollment's employer stays
    assert fold(ev.staff_removed(person, job.enrollment_id, "E1"), profile=profile) == profile
    profile = fold(ev.staff_removed(person, job.enrollment_id, "E2"), profile=profile)
    assert profile.employer_id is None
    profile = fold(ev.moved(person, job.enrollment_id, ev.JINAN), profile=profile)
    assert profile.region == ev.JINAN


def test_a_newborn_is_enrolled_as_a_resident_from_birth():
    person = ev.new_person()
    profile = fold(ev.newborn(person, date(2026, 1, 5)))
    assert profile.birth_date == date(2026, 1, 5)
    assert profile.insutypes == {"390", "392"}
    assert profile.region == profile.home_region == ev.QINGDAO
    assert profile.age_on(DAY) == 0


@pytest.mark.parametrize(
    "event",
    [
        lambda p: ev.death(p, DAY),
        lambda p: ev.deceased(p, DAY),
        lambda p: ev.terminated(p, "EN-other", "death", DAY),
    ],
    ids=["feeds DeathRecorded", "enrollment PersonDeceased", "terminated for death"],
)
def test_a_death_makes_the_person_not_alive(event):
    person = ev.new_person()
    profile = fold(ev.registered(person), ev.enrolled(person), event(person))
    assert not profile.alive
    assert profile.date_of_death == DAY


def test_a_corrected_death_stands_against_the_first_report_delivered_again():
    person = ev.new_person()
    first = ev.death(person, DAY)
    profile = fold(first, ev.death_corrected(person, DAY, DAY - timedelta(days=2)))
    assert profile.date_of_death == DAY - timedelta(days=2)
    assert apply(profile, ev.envelope(first)) is None


def test_chronic_certifications_give_the_condition_codes_until_revoked():
    person = ev.new_person()
    diabetes = ev.certified(person, "t2dm")
    profile = fold(diabetes, ev.certified(person, "hypertension"))
    assert profile.condition_codes == {"t2dm", "hypertension"}
    profile = fold(ev.revoked(person, diabetes.certification_id), profile=profile)
    assert profile.condition_codes == {"hypertension"}
    assert apply(profile, ev.envelope(diabetes)) is None  # not certified again by a redelivery


def test_remote_care_filings_are_kept_active_or_not():
    person = ev.new_person()
    retiree = ev.filed(person, "relocated_retiree")
    referral = ev.filed(person, "referral")
    profile = fold(retiree, referral)
    assert profile.filing_categories == {"relocated_retiree", "referral"}
    assert {f.destination for f in profile.filings} == {"110105"}
    assert len(profile.active_filings(DAY)) == 2
    assert profile.active_filings(date(2026, 7, 1)) == (profile.filings[0],)  # referral ran out
    profile = fold(
        ev.filing_revoked(person, retiree.filing_id),
        ev.filing_expired(person, referral.filing_id),
        profile=profile,
    )
    assert profile.filing_categories == frozenset()
    assert [f.active for f in profile.filings] == [False, False]
    assert apply(profile, ev.envelope(retiree)) is None  # a revoked filing stays revoked


def test_a_revocation_seen_before_its_filing_keeps_it_inactive():
    person = ev.new_person()
    filing = ev.filed(person)
    profile = fold(ev.filing_revoked(person, filing.filing_id), filing)
    assert profile.filing_categories == frozenset()


def test_maternity_is_the_newest_birth_with_an_allowance_not_cancelled():
    person = ev.new_person()
    older, newer = date(2023, 4, 1), date(2026, 2, 1)
    second = ev.allowance(person, newer)
    profile = fold(ev.allowance(person, older), second)
    assert profile.maternity_date == newer
    profile = fold(ev.allowance_cancelled(person, second.allowance_id, newer), profile=profile)
    assert profile.maternity_date == older
    assert apply(profile, ev.envelope(second)) is None


def test_the_push_preference_is_the_newest_by_its_time():
    person = ev.new_person()
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    out = ev.preference(person, True, at)
    profile = fold(out)
    assert profile.opted_out
    back_in = ev.preference(person, False, at + timedelta(hours=1))
    profile = fold(back_in, profile=profile)
    assert not profile.opted_out
    assert apply(profile, ev.envelope(out)) is None  # the older opt-out delivered again


def test_elderly_on_a_date_is_computed_not_stored():
    person = ev.new_person()
    profile = fold(ev.registered(person, date(1966, 3, 10)))
    assert profile.age_on(date(2026, 3, 9)) == 59
    assert not profile.elderly_on(date(2026, 3, 9))
    assert profile.elderly_on(date(2026, 3, 10))
    leap = fold(ev.registered(ev.new_person(), date(1964, 2, 29)))
    assert not leap.elderly_on(date(2024, 2, 28))
    assert leap.elderly_on(date(2024, 2, 29))
    assert fold(ev.preference(ev.new_person(), True)).age_on(DAY) is None  # birth not known


def test_assisted_groups_are_kept_in_the_bytes():
    profile = Profile(ev.new_person(), revision=3, assisted_groups=frozenset({"dibao", "tekun"}))
    assert load(dump(profile)) == profile


def everything(person: str) -> list[Event]:
    job = ev.enrolled(person, "310", employer_id="E1")
    cert = ev.certified(person, "copd")
    filing = ev.filed(person, "referral")
    grant = ev.allowance(person, date(2025, 5, 1))
    return [
        ev.registered(person),
        job,
        ev.enrolled(person, "390", ev.JINAN, start=date(2010, 1, 1)),
        ev.staff_added(person, job.enrollment_id, "E2"),
        ev.moved(person, job.enrollment_id),
        cert,
        ev.certified(person, "gout"),
        ev.revoked(person, cert.certification_id, "copd"),
        filing,
        ev.filed(person, "stationed_worker"),
        ev.filing_expired(person, filing.filing_id),
        grant,
        ev.allowance(person, date(2025, 9, 1)),
        ev.allowance_cancelled(person, grant.allowance_id, date(2025, 5, 1)),
        ev.preference(person, True),
        ev.terminated(person, job.enrollment_id),
        ev.death(person, DAY),
    ]


def test_applying_any_event_again_changes_nothing():
    person = ev.new_person()
    events = everything(person)
    profile = fold(*events)
    for event in events:
        assert apply(profile, ev.envelope(event)) is None, type(event).__name__
    assert fold(*events, *events) == profile


def test_the_revision_counts_the_changes():
    person = ev.new_person()
    events = everything(person)
    profile = fold(*events)
    assert profile.revision == len(events)


def test_an_event_type_the_profile_does_not_use_is_passed_over():
    person = ev.new_person()
    opened = ContactChanged(person_id=person)  # on a topic it reads, of a type it does not use
    assert apply(None, ev.envelope(opened)) is None
    assert apply(fold(ev.registered(person)), opened) is None


def test_a_person_not_seen_yet_gets_a_profile_of_their_own():
    person = ev.new_person()
    profile = apply(None, ev.certified(person))
    assert profile is not None
    assert (profile.person_id, profile.revision) == (person, 1)
