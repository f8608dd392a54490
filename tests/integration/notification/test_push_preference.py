"""The opt-out register through the API (the person themself, in the app) and the domain
function a TD reply calls: a change is published once (PushPreferenceChanged through the
outbox), the same preference again publishes nothing, and what is refused or malformed is
answered with an RFC 9457 problem."""

from datetime import datetime

import pytest

from chs_events.events.notices import PushPreferenceChanged
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA
from chs_notification import handlers
from chs_notification.api import create_app
from chs_notification.commands import SetPushPreference
from chs_notification.settings import NotificationSettings
from tests.support.people import new_person_id
from tests.support.service import outbox_of, service_fixtures, types, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("notification", NotificationSettings, create_app)

CHANGED = "chs.notices.push-preference.changed.v1"
PROBLEM = "application/problem+json"


def own(person_id: str) -> dict[str, str]:
    return bearer("notification", kind="person", person_id=person_id)


def url(person_id: str) -> str:
    return f"/persons/{person_id}/push-preference"


async def test_never_set_is_opted_in(client):
    person = new_person_id()

    answer = await client.get(url(person), headers=own(person))

    assert answer.status_code == 200
    assert answer.json() == {
        "person_id": person,
        "opted_out": False,
        "via": None,
        "changed_at": None,
    }


async def test_opting_out_and_back_in_publishes_each_change_once(client, db):
    person = new_person_id()

    out = await client.put(url(person), json={"opted_out": True}, headers=own(person))
    again = await client.put(url(person), json={"opted_out": True}, headers=own(person))
    read = await client.get(url(person), headers=own(person))
    events_out = await outbox_of(db, person)
    back = await client.put(url(person), json={"opted_out": False}, headers=own(person))
    back_again = await client.put(url(person), json={"opted_out": False}, headers=own(person))

    assert out.status_code == again.status_code == back.status_code == 200
    assert out.json()["opted_out"] is True and out.json()["via"] == "app"
    assert again.json() == out.json() == read.json()
    assert datetime.fromisoformat(out.json()["changed_at"]).utcoffset() == CHINA.utcoffset(
        datetime.now()
    )
    assert back.json()["opted_out"] is False and back_again.json() == back.json()
    events = await outbox_of(db, person)
    assert types(events_out) == [CHANGED]
    assert types(events) == [CHANGED, CHANGED]
    published = [e.event for e in events]
    assert all(isinstance(e, PushPreferenceChanged) for e in published)
    assert [(e.opted_out, e.via) for e in published] == [(True, "app"), (False, "app")]  # type: ignore[attr-defined]
    assert events[0].topic == "chs.notices.preferences"
    assert events[0].correlation_id is not None


async def test_opting_in_without_a_preference_changes_nothing(client, db):
    person = new_person_id()

    answer = await client.put(url(person), json={"opted_out": False}, headers=own(person))

    assert answer.status_code == 200 and answer.json()["changed_at"] is None
    assert await outbox_of(db, person) == []


async def test_a_td_reply_opts_out_through_the_same_function(client, db):
    person = new_person_id()

    row, changed = await handlers.handle_set_push_preference(
        UnitOfWork(db, source="/chs/notification"),
        SetPushPreference(person, True, "sms_reply", datetime.now(CHINA)),
    )
    _, again = await handlers.handle_set_push_preference(
        UnitOfWork(db, source="/chs/notification"),
        SetPushPreference(person, True, "app", datetime.now(CHINA)),
    )
    read = await client.get(url(person), headers=own(person))

    assert changed and not again  # opted out already: the app's same choice changes nothing
    assert row is not None and row["via"] == "sms_reply"
    assert read.json()["via"] == "sms_reply" and read.json()["opted_out"] is True
    [event] = [e.event for e in await outbox_of(db, person)]
    assert isinstance(event, PushPreferenceChanged) and event.via == "sms_reply"


@pytest.mark.parametrize(
    "body",
    [{"opted_out": "yes"}, {}, {"opted_out": True, "via": "sms_reply"}, {"opted_out": 1}],
    ids=["not a boolean", "missing", "another field", "a number"],
)
async def test_a_malformed_body_is_a_422_problem(client, db, body):
    person = new_person_id()

    answer = await client.put(url(person), json=body, headers=own(person))

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM)
    problem = answer.json()
    assert problem["status"] == 422 and problem["type"] and problem["title"]
    assert await outbox_of(db, person) == []


async def test_another_person_is_refused_with_a_403_problem(client, db):
    person, other = new_person_id(), new_person_id()

    put = await client.put(url(person), json={"opted_out": True}, headers=own(other))
    get = await client.get(url(person), headers=own(other))

    for answer in (put, get):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.json()["status"] == 403
    assert await outbox_of(db, person) == []


async def test_agency_staff_may_not_set_nor_read_it(client, db):
    person = new_person_id()
    agency = bearer("notification", kind="agency")

    put = await client.put(url(person), json={"opted_out": True}, headers=agency)
    get = await client.get(url(person), headers=agency)

    assert put.status_code == get.status_code == 403
    assert put.headers["content-type"].startswith(PROBLEM)
    assert await outbox_of(db, person) == []


async def test_without_a_token_401(client):
    person = new_person_id()

    answer = await without_token(client, "PUT", url(person), json={"opted_out": True})

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith(PROBLEM)
