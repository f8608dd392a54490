"""The rules of each SMS category end to end, against the real broker and database: a push to
a person who opted out is recorded opted_out and not sent while a business result to the same
person is; a third push in a day is capped; a push requested at 22:00 is sent at 08:00 by the
dispatcher (its clock set, nothing sleeps until morning); each outcome is announced and shown
by the read API and the statistics."""

import asyncio
import uuid
from datetime import date, datetime, time, timedelta

import pytest

from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested, PushPreferenceChanged
from chs_events.topics import BY_NAME, NOTICE_PREFERENCES, NOTICE_STATUS, dead_letter_spec
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA
from chs_notification import handlers
from chs_notification.__main__ import local_gateway
from chs_notification.api import create_app
from chs_notification.commands import SetPushPreference
from chs_notification.dispatch import Dispatcher
from tests.integration.notification.test_notification import (
    QINGDAO_MOBILE,
    TAG,
    Notification,
    notice,
    notice_id,
    registered,
    service,
    status_change,
)
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id
from tests.support.service import client_of, running
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

__all__ = ["service"]  # the fixture, shared with the service's other tests

HYPERTENSION = "chronic.hypertension_policy"
HYPERTENSION_TEXT = (
    f"{TAG}尊敬的张三，高血压门诊用药保障政策：在定点医药机构购买降压药可按规定报销，"
    "无需办理门诊慢特病认定。详情请咨询当地医保经办机构。回TD退订"
)


def push(person_id: str, *, at: datetime | None = None) -> Envelope:
    """A push notice (the name is the directory's), requested ``at`` (now when None)."""
    event = NoticeRequested(
        person_id=person_id,
        notice_id=uuid.uuid4().hex,
        template_id=HYPERTENSION,
        params={},
        category="push",
    )
    source = "/chs/push-targeting"
    if at is None:
        return Envelope(event, source=source, correlation_id=f"req-{uuid.uuid4().hex}")
    return Envelope(event, source=source, time=at, correlation_id=f"req-{uuid.uuid4().hex}")


async def opt_out(notification: Notification, person_id: str, opted_out: bool = True) -> bool:
    """The person's preference set by the domain function (the app's and a TD reply's)."""
    assert notification.pool is not None
    async with notification.pool.acquire() as conn:
        _, changed = await handlers.handle_set_push_preference(
            UnitOfWork(conn, source=notification.settings.ce_source),
            SetPushPreference(person_id, opted_out, "app", datetime.now(CHINA)),
        )
    return changed


async def queued(notification: Notification, count: int) -> dict[str, dict]:
    async def enough():
        rows = await notification.messages()
        return rows if len(rows) >= count else None

    return {key: dict(row) for key, row in (await until(enough, timeout=30)).items()}


async def test_an_opted_out_person_gets_no_push_but_still_gets_a_business_result(service):
    person = new_person_id()
    pushed, result = push(person), notice(person)
    async with service() as notification:
        await ensure_topics(
            notification.settings.kafka_bootstrap,
            notification.settings.topic_prefix,
            [BY_NAME[NOTICE_PREFERENCES], dead_letter_spec(BY_NAME[NOTICE_PREFERENCES])],
        )
        notification.start()
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)))
        assert await opt_out(notification, person)
        assert not await opt_out(notification, person)  # the same again: nothing new
        await notification.publish(pushed, result)
        messages = await notification.wait_final(2)
        await asyncio.sleep(1.0)  # time for a wrong SMS to show up
        sms = await notification.sms()

        async with (
            running(create_app(notification.settings)) as app,
            client_of(app, "notification") as http,
        ):
            listing = await http.get(
                f"/persons/{person}/messages",
                headers=bearer("notification", kind="person", person_id=person),
            )
            today = datetime.now(CHINA).date().isoformat()
            stats = await http.get(
                "/stats/delivery",
                params={"date_from": today, "date_to": today, "template_id": HYPERTENSION},
                headers=bearer("notification", kind="agency"),
            )
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=3,
        )
        preferences = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_PREFERENCES),
            expected=1,
        )

    opted = messages[notice_id(pushed)]
    assert opted["status"] == "opted_out" and opted["attempts"] == 0 and opted["text"] is None
    assert opted["last_error"] == "opted out of push messages"
    assert messages[notice_id(result)]["status"] == "delivered"
    assert len(sms) == 1 and not sms[0]["text"].endswith("回TD退订")

    shown = {m["template_id"]: m for m in listing.json()["messages"]}
    assert shown[HYPERTENSION]["status"] == "opted_out"
    assert shown[HYPERTENSION]["not_before"] is None
    [row] = stats.json()["rows"]
    assert (row["total"], row["opted_out"], row["capped"], row["pending"]) == (1, 1, 0, 0)

    events = [Envelope.from_record(r.key, r.value, r.headers) for r in status]
    [announced] = [e for e in events if notice_id(e) == notice_id(pushed)]
    assert announced.type == "chs.notices.opted-out.v1"
    assert status_change(announced).status == "opted_out"
    assert announced.causation_id == pushed.id
    [preference] = [Envelope.from_record(r.key, r.value, r.headers) for r in preferences]
    assert preference.type == "chs.notices.push-preference.changed.v1"
    assert isinstance(preference.event, PushPreferenceChanged)
    assert (preference.event.person_id, preference.event.opted_out) == (person, True)
    assert preference.event.via == "app"
    assert preferences[0].key.decode() == person


async def test_a_third_push_in_a_day_is_capped(service):
    person = new_person_id()
    pushes = [push(person) for _ in range(3)]
    async with service() as notification:
        # no dispatcher: the first two are counted queued as they are counted sent
        notification.start_consumers()
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)))
        for envelope in pushes:  # one at a time: their order is the count's
            await notification.publish(envelope)
            await queued(notification, pushes.index(envelope) + 1)
        messages = await queued(notification, 3)
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=1,
        )

    first, second, third = (messages[notice_id(envelope)] for envelope in pushes)
    assert first["status"] == second["status"] == "queued"
    assert third["status"] == "capped" and third["attempts"] == 0
    assert third["last_error"].startswith("2 push messages a day already on ")
    [capped] = [Envelope.from_record(r.key, r.value, r.headers) for r in status]
    assert capped.type == "chs.notices.capped.v1"
    assert notice_id(capped) == notice_id(pushes[2])


class Clock:
    """The dispatcher's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def clocked_dispatcher(notification: Notification, clock: Clock) -> Dispatcher:
    """The service's dispatcher with the local gateway, on the test's clock; run by the test
    (``dispatch_due``, ``run_once``)."""
    assert notification.pool is not None
    gateway = local_gateway(notification.pool, notification.settings)
    return Dispatcher(notification.pool, gateway, notification.settings, clock=clock)


async def test_a_push_requested_at_22_is_sent_at_8_the_next_morning(service):
    person, later = new_person_id(), new_person_id()
    evening = datetime(2026, 3, 10, 22, 0, tzinfo=CHINA)
    morning = datetime(2026, 3, 11, 8, 0, tzinfo=CHINA)
    deferred, withdrawn = push(person, at=evening), push(later, at=evening)
    async with service() as notification:
        notification.start_consumers()  # the dispatcher is the test's, on its clock
        await notification.publish(
            registered(person, QINGDAO_MOBILE, date(1990, 5, 1)),
            registered(later, "13853200001", date(1990, 5, 1)),
        )
        await notification.publish(deferred, withdrawn)
        messages = await queued(notification, 2)
        clock = Clock(morning - timedelta(minutes=1))
        dispatcher = clocked_dispatcher(notification, clock)
        assert await dispatcher.dispatch_due() == 0  # 07:59: still the quiet hours
        await opt_out(notification, later)  # opted out while the push waits
        clock.now = morning
        assert await dispatcher.dispatch_due() == 2
        await dispatcher.run_once()  # the receipts
        after = await notification.messages()
        sms = await notification.sms()

        async with (
            running(create_app(notification.settings)) as app,
            client_of(app, "notification") as http,
        ):
            listing = await http.get(
                f"/persons/{person}/messages",
                headers=bearer("notification", kind="person", person_id=person),
            )

    waiting = messages[notice_id(deferred)]
    assert waiting["status"] == "queued" and waiting["not_before"] == morning
    assert waiting["next_attempt_at"] == morning
    sent = after[notice_id(deferred)]
    assert sent["status"] == "delivered" and sent["sent_at"] == morning
    assert after[notice_id(withdrawn)]["status"] == "opted_out"
    assert [(row["mobile"], row["text"]) for row in sms] == [(QINGDAO_MOBILE, HYPERTENSION_TEXT)]
    [shown] = listing.json()["messages"]
    assert datetime.fromisoformat(shown["not_before"]) == morning


async def test_a_push_due_in_the_quiet_hours_waits_for_their_end(service):
    """Requested in the day but due at 21:00 (a backlog, a retry): deferred as it is sent."""
    person = new_person_id()
    now = datetime.now(CHINA)
    night = datetime.combine(now.date(), time(21), tzinfo=CHINA)  # the next 21:00: it is due
    night = night if night > now else night + timedelta(days=1)
    morning = night.replace(hour=8) + timedelta(days=1)
    late = push(person, at=night - timedelta(hours=5))
    async with service() as notification:
        notification.start_consumers()
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)), late)
        await queued(notification, 1)
        clock = Clock(night)
        dispatcher = clocked_dispatcher(notification, clock)
        assert await dispatcher.dispatch_due() == 1
        waiting = (await notification.messages())[notice_id(late)]
        assert await dispatcher.dispatch_due() == 0
        clock.now = morning
        assert await dispatcher.dispatch_due() == 1
        sms = await notification.sms()

    assert waiting["status"] == "queued" and waiting["attempts"] == 0
    assert waiting["not_before"] == morning and waiting["next_attempt_at"] == morning
    assert len(sms) == 1
