"""The chronic applications a push profile keeps (pure): an application naming its condition,
a rejection's or a certification's application, whatever the outcome; applying any of them
again changes nothing, in any order of arrival; a profile stored before they were kept loads
with none."""

import itertools

import orjson
import pytest

from chs_events.events.base import Event
from chs_push.rules.profile import Profile, apply, dump, load
from tests.unit.push import events as ev
from tests.unit.push import trigger_events as tev

pytestmark = pytest.mark.unit


def fold(*events: Event, profile: Profile | None = None) -> Profile:
    for event in events:
        applied = apply(profile, ev.envelope(event))
        if applied is not None:
            profile = load(dump(applied))  # kept as bytes between events, as the table keeps it
            assert profile == applied
    assert profile is not None
    return profile


def test_an_application_naming_its_condition_is_kept():
    person = ev.new_person()
    application = tev.applied(person, "hypertension")
    profile = fold(application)
    assert profile.applications == ((application.application_id, "hypertension"),)
    assert profile.applied_codes == {"hypertension"}
    assert profile.condition_codes == frozenset()  # applied for, not certified


def test_an_application_for_review_names_its_condition_when_decided():
    person = ev.new_person()
    pending = tev.applied(person, None)
    assert apply(None, ev.envelope(pending)) is None  # no condition yet: nothing to keep
    refused = fold(pending, tev.rejected(person, pending.application_id, "copd"))
    assert refused.applied_codes == {"copd"}
    granted = fold(
        tev.certified(person, "gout", application_id=pending.application_id), profile=refused
    )
    assert granted.applied_codes == {"copd", "gout"}
    assert granted.condition_codes == {"gout"}


def test_a_certification_without_application_is_held_not_applied_for():
    person = ev.new_person()
    profile = fold(tev.certified(person, "malignant_tumour", diagnoses=("C34.1",)))
    assert profile.applications == ()
    assert profile.condition_codes == {"malignant_tumour"}


def test_a_revoked_certification_keeps_its_application():
    person = ev.new_person()
    application = tev.applied(person, "t2dm")
    cert = tev.certified(person, "t2dm", application_id=application.application_id)
    revoked = ev.revoked(person, cert.certification_id, "t2dm")
    profile = fold(application, cert, revoked)
    assert profile.condition_codes == frozenset()
    assert profile.applied_codes == {"t2dm"}
    # the certification delivered again reopens nothing, and changes nothing
    assert apply(profile, ev.envelope(cert)) is None


def chronic_history(person: str) -> list[Event]:
    application = tev.applied(person, "hypertension")
    other = tev.applied(person, "copd")
    return [
        application,
        tev.certified(person, "hypertension", application_id=application.application_id),
        other,
        tev.rejected(person, other.application_id, "copd"),
        tev.certified(person, "t2dm"),
    ]


def test_applying_any_application_event_again_changes_nothing():
    person = ev.new_person()
    events = chronic_history(person)
    profile = fold(*events)
    for event in events:
        assert apply(profile, ev.envelope(event)) is None, type(event).__name__
    assert fold(*events, *events) == profile
    assert profile.revision == 4  # the rejection named what the application had


def test_in_any_order_the_same_applications_and_conditions():
    person = ev.new_person()
    events = chronic_history(person)
    expected = fold(*events)
    for order in itertools.permutations(events):
        profile = fold(*order)
        assert set(profile.applications) == set(expected.applications)
        assert profile.applied_codes == expected.applied_codes
        assert profile.condition_codes == expected.condition_codes


def test_a_profile_stored_before_the_applications_loads_with_none():
    person = ev.new_person()
    profile = fold(ev.registered(person), ev.certified(person))
    stored = orjson.loads(dump(profile))
    assert len(stored) == 17
    older = orjson.dumps(stored[:16])
    assert load(older) == profile
    kept = fold(tev.applied(profile.person_id), profile=profile)
    assert load(dump(kept)) == kept
