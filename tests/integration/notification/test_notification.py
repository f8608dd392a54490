"""The notification service against the real broker and database: directory and request
consumers, the dispatcher with the local gateway, the outbox relay and the HTTP API."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from chs_events.admin import ensure_topics
from chs_events.db import open_service_database
from chs_events.envelope import Envelope
from chs_events.events.contacts import PendingMobile, PersonContact
from chs_events.events.notices import NoticeRequested, NoticeStatusChanged
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.runtime import consumers, run_together
from chs_events.topics import (
    BY_NAME,
    ENROLLMENT_CONTACTS,
    NOTICE_REQUESTS,
    NOTICE_STATUS,
    dead_letter_spec,
    dlq_of,
)
from chs_events.vocabulary import CHINA
from chs_notification.__main__ import local_gateway
from chs_notification.api import create_app
from chs_notification.commands import RequestNotice
from chs_notification.consumers import SUBSCRIPTIONS
from chs_notification.dispatch import Dispatcher
from chs_notification.gateway import PermanentGatewayError, SendResult, SmsMessage
from chs_notification.local_gateway import LocalGateway
from chs_notification.model import message_id_for
from chs_notification.repository import insert_message, upsert_contact
from chs_notification.settings import NotificationSettings
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id
from tests.support.platform import Platform
from tests.support.service import client_of, running, throwaway_database
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

QINGDAO_MOBILE = "13853212345"
JIANGSU_MOBILE = "13912345678"
QINGDAO_ELDERLY_MOBILE = "13853298765"
# as progress-notices sends them: the greeting params (name, guardian_name) are left to
# notification's contact directory
REGISTERED_PARAMS = {
    "insutype_name": "城乡居民基本医疗保险",
    "region_name": "青岛市",
    "start_date": "2026年1月1日",
}
TAG = "【中国医疗保障】"
FINAL_STATUSES = ("delivered", "failed", "undeliverable", "opted_out", "capped")


def registered(
    person_id: str, mobile: str | None, birth_date: date, name: str = "张三"
) -> Envelope:
    return contact(person_id, mobile, birth_date, name)


def contact(
    person_id: str,
    mobile: str | None,
    birth_date: date,
    name: str = "张三",
    *,
    guardian_person_id: str | None = None,
    pending: PendingMobile | None = None,
) -> Envelope:
    """A PersonContact, as enrollment sends it on chs.enrollment.contacts."""
    return Envelope(
        PersonContact(
            person_id=person_id,
            name=name,
            mobile=mobile,
            birth_date=birth_date,
            guardian_person_id=guardian_person_id,
            pending=pending,
        ),
        source="/chs/enrollment",
    )


def notice(
    person_id: str,
    notice_id: str | None = None,
    template_id: str = "enrollment.registered",
    params: dict[str, str] | None = None,
) -> Envelope:
    return Envelope(
        NoticeRequested(
            person_id=person_id,
            notice_id=notice_id or uuid.uuid4().hex,
            template_id=template_id,
            params=REGISTERED_PARAMS if params is None else params,
            category="business_result",
        ),
        source="/chs/progress-notices",
        correlation_id=f"req-{uuid.uuid4().hex}",
    )


def notice_id(envelope: Envelope) -> str:
    """The notice a request or a status event is about."""
    return status_event(envelope).notice_id


def status_event(envelope: Envelope) -> NoticeRequested | NoticeStatusChanged:
    event = envelope.event
    assert isinstance(event, NoticeRequested | NoticeStatusChanged)
    return event


def status_change(envelope: Envelope) -> NoticeStatusChanged:
    event = envelope.event
    assert isinstance(event, NoticeStatusChanged)
    return event


class Notification:
    """The service's workers run in-process as tasks, against one fresh database."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._producer = create_producer(settings, "test")

    async def open(self) -> None:
        self.pool = await open_service_database(
            self.settings.database_url, self.settings.database_name, "chs_notification"
        )
        await self._producer.start()

    def start_consumers(self) -> None:
        self._tasks.append(
            asyncio.create_task(
                run_together(consumers(SUBSCRIPTIONS, self.pool, self.settings), self._stop)
            )
        )

    def start_dispatcher(self, seed: int = 1) -> None:
        settings = self.settings.model_copy(update={"gateway_seed": seed})
        dispatcher = Dispatcher(self.pool, local_gateway(self.pool, settings), settings)
        self._tasks.append(asyncio.create_task(dispatcher.run(self._stop)))

    def start_relay(self) -> None:
        relay = OutboxRelay(
            self.settings.database_dsn,
            self._producer,
            service="notification",
            topic_prefix=self.settings.topic_prefix,
            poll_interval=0.2,
        )
        self._tasks.append(asyncio.create_task(relay.run(self._stop)))

    def start(self) -> None:
        self.start_consumers()
        self.start_dispatcher()

    async def publish(self, *envelopes: Envelope, twice: bool = False) -> None:
        for envelope in envelopes:
            record = envelope.to_record()
            for _ in range(2 if twice else 1):
                await self._producer.send_and_wait(
                    self.settings.topic(envelope.topic),
                    key=record.key,
                    value=record.value,
                    headers=record.headers,
                )

    async def close(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks), 30)
        await self._producer.stop()
        if self.pool is not None:
            await self.pool.close()

    async def fetch(self, query: str, *args) -> list[asyncpg.Record]:
        assert self.pool is not None, "opened"
        async with self.pool.acquire() as conn:
            return await conn.fetch(query, *args)

    async def messages(self) -> dict[str, asyncpg.Record]:
        return {row["notice_id"]: row for row in await self.fetch("select * from messages")}

    async def sms(self) -> list[asyncpg.Record]:
        return await self.fetch("select * from local_gateway_sms order by accepted_at")

    async def wait_final(self, count: int, within: float = 30.0) -> dict[str, asyncpg.Record]:
        async def all_final():
            rows = await self.messages()
            final = [r for r in rows.values() if r["status"] in FINAL_STATUSES]
            return rows if len(final) >= count else None

        try:
            return await until(all_final, timeout=within)
        except AssertionError:
            rows = await self.fetch("select notice_id, status, attempts, last_error from messages")
            raise AssertionError(
                f"{count} final messages expected: {[tuple(row) for row in rows]}"
            ) from None


@pytest.fixture
async def service(kafka_bootstrap, database_url, topic_prefix) -> AsyncIterator:
    specs = [BY_NAME[name] for name in (ENROLLMENT_CONTACTS, NOTICE_REQUESTS, NOTICE_STATUS)]
    await ensure_topics(
        kafka_bootstrap, topic_prefix, [s for spec in specs for s in (spec, dead_letter_spec(spec))]
    )
    opened: list[Notification] = []
    async with throwaway_database(database_url, "notification") as database:

        @asynccontextmanager
        async def started(**overrides) -> AsyncIterator[Notification]:
            settings = NotificationSettings(
                kafka_bootstrap=kafka_bootstrap,
                database_url=database_url,
                topic_prefix=topic_prefix,
                database_name=database,
                dispatch_poll_interval=0.2,
                send_retry_base_delay=0.05,
                send_retry_max_delay=0.2,
                **overrides,
            )
            notification = Notification(settings)
            opened.append(notification)
            await notification.open()
            yield notification

        yield started
        for notification in opened:
            await notification.close()


def registered_text(name: str = "张三") -> str:
    return (
        f"{TAG}尊敬的{name}，您已在青岛市成功参加城乡居民基本医疗保险，"
        "参保开始日期为2026年1月1日。如有疑问请咨询当地医保经办机构。"
    )


async def test_one_sms_per_notice_with_the_right_text_sender_and_status_events(service):
    qingdao, jiangsu, elderly = new_person_id(), new_person_id(), new_person_id()
    notices = {
        qingdao: notice(qingdao),
        jiangsu: notice(
            jiangsu, params=dict(REGISTERED_PARAMS, name="张三")
        ),  # a name in the notice is used as it is
        elderly: notice(elderly),
    }
    async with service() as notification:
        notification.start()
        await notification.publish(
            registered(qingdao, QINGDAO_MOBILE, date(1990, 5, 1)),
            registered(jiangsu, JIANGSU_MOBILE, date(1985, 3, 2), name="张叁"),
            registered(elderly, QINGDAO_ELDERLY_MOBILE, date(1950, 1, 15), name="李奶奶"),
        )
        await notification.publish(*notices.values())
        # the same notice again in a new event (a processor's retry) ...
        again = Envelope(notices[qingdao].event, source="/chs/progress-notices")
        assert again.id != notices[qingdao].id
        await notification.publish(again)
        # ... and the same record redelivered
        await notification.publish(notices[jiangsu], twice=True)

        messages = await notification.wait_final(3)
        await asyncio.sleep(1.0)  # time for a wrong second message to show up
        sms = await notification.sms()

        assert len(sms) == 3 and len(await notification.messages()) == 3
        by_mobile = {row["mobile"]: row for row in sms}
        assert by_mobile[QINGDAO_MOBILE]["text"] == registered_text()
        assert by_mobile[QINGDAO_MOBILE]["sender"] == "10639239"
        assert by_mobile[JIANGSU_MOBILE]["text"] == registered_text()
        assert by_mobile[JIANGSU_MOBILE]["sender"] == "106575376196"
        assert by_mobile[QINGDAO_ELDERLY_MOBILE]["text"] == (
            f"{TAG}2026年1月1日起，李奶奶参保成功，看病可以用医保了。"
        )
        assert by_mobile[QINGDAO_ELDERLY_MOBILE]["sender"] == "10639239"
        assert all(row["text"].startswith(TAG) for row in sms)
        for person_id, envelope in notices.items():
            message = messages[notice_id(envelope)]
            assert message["status"] == "delivered"
            assert message["person_id"] == person_id
            assert message["attempts"] == 1
            assert message["message_id"] == message_id_for(notice_id(envelope))
        assert messages[notice_id(notices[qingdao])]["mobile_masked"] == "138****2345"

        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=6,
        )

    assert len(status) == 6
    seen: dict[str, list[Envelope]] = {}
    for record in status:
        envelope = Envelope.from_record(record.key, record.value, record.headers)
        assert envelope.source == "/chs/notification"
        assert record.key.decode() == envelope.event.person_id
        seen.setdefault(notice_id(envelope), []).append(envelope)
    for person_id, request in notices.items():
        events = seen[notice_id(request)]
        assert [e.type for e in events] == ["chs.notices.sent.v1", "chs.notices.delivered.v1"]
        assert {e.event.person_id for e in events} == {person_id}
        assert {e.causation_id for e in events} == {request.id}
        assert {e.correlation_id for e in events} == {request.correlation_id}
    assert status_change(seen[notice_id(notices[jiangsu])][0]).sender == "106575376196"


async def test_transient_gateway_failures_are_retried_without_a_second_sms(service):
    people = [new_person_id() for _ in range(12)]
    async with service(gateway_failure_rate=0.5, send_max_attempts=30) as notification:
        notification.start_consumers()
        notification.start_dispatcher(seed=20261122)
        await notification.publish(
            *(registered(p, f"1385321{n:04d}", date(1980, 1, 1)) for n, p in enumerate(people))
        )
        await notification.publish(*(notice(p) for p in people))

        messages = await notification.wait_final(len(people))
        sms = await notification.sms()

    assert {m["status"] for m in messages.values()} == {"delivered"}
    assert max(m["attempts"] for m in messages.values()) > 1
    assert len(sms) == len(people)
    assert {row["message_id"] for row in sms} == {m["message_id"] for m in messages.values()}


class ScriptedRandom:
    """random.Random's ``random()`` with scripted draws, then ``then`` for ever."""

    def __init__(self, draws: list[float], then: float = 0.9) -> None:
        self._draws, self._then = list(draws), then

    def random(self) -> float:
        return self._draws.pop(0) if self._draws else self._then


async def test_a_lost_reply_is_resent_as_the_same_sms_and_its_early_receipt_kept(service):
    person = new_person_id()
    async with service(gateway_failure_rate=0.5) as notification:
        notification.start_consumers()
        # draws: the first send loses its reply (0.3 < 0.5 but not < 0.25), the receipt
        # then arrives while the message is still queued, the resend is accepted
        gateway = LocalGateway(notification.pool, failure_rate=0.5, rng=ScriptedRandom([0.3]))  # type: ignore[arg-type]
        dispatcher = Dispatcher(notification.pool, gateway, notification.settings)
        request = notice(person)
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)), request)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            message = (await notification.wait_final(1))[notice_id(request)]
        finally:
            stop.set()
            await task
        sms = await notification.sms()
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=2,
        )

    assert message["status"] == "delivered" and message["attempts"] == 2
    assert message["early_receipt"] is None
    assert len(sms) == 1 and sms[0]["provider_message_id"] == message["provider_message_id"]
    assert sms[0]["submissions"] == 2  # the gateway saw the resend
    types = [Envelope.from_record(r.key, r.value, r.headers).type for r in status]
    assert types == ["chs.notices.sent.v1", "chs.notices.delivered.v1"]


class DatabaseLostAfterSending:
    """The local gateway, whose first send is followed by the database ending the dispatcher's
    open transaction (as a server restart would), before the dispatcher records the send."""

    def __init__(self, gateway: LocalGateway, pool: asyncpg.Pool) -> None:
        self._gateway, self._pool, self.lost = gateway, pool, 0

    async def send(self, message: SmsMessage):
        result = await self._gateway.send(message)
        if not self.lost:
            async with self._pool.acquire() as conn:
                self.lost = await conn.fetchval(
                    """select count(pg_terminate_backend(pid)) from pg_stat_activity
                       where datname = current_database() and state = 'idle in transaction'"""
                )
        return result

    async def receipts(self):
        return await self._gateway.receipts()

    async def acknowledge(self, message_ids):
        await self._gateway.acknowledge(message_ids)


async def test_a_send_whose_transaction_is_lost_is_recorded_not_submitted_again(service):
    person = new_person_id()
    async with service() as notification:
        notification.start_consumers()
        gateway = DatabaseLostAfterSending(LocalGateway(notification.pool), notification.pool)
        dispatcher = Dispatcher(notification.pool, gateway, notification.settings)
        request = notice(person)
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)), request)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            message = (await notification.wait_final(1))[notice_id(request)]
        finally:
            stop.set()
            await task
        sms = await notification.sms()

    assert gateway.lost == 1  # the dispatcher's transaction was ended after the send
    assert message["status"] == "delivered" and message["attempts"] == 1
    assert len(sms) == 1 and sms[0]["submissions"] == 1


async def test_a_receipt_comes_again_until_it_is_acknowledged(service):
    async with service() as notification:
        gateway = LocalGateway(notification.pool, undelivered_rate=0.5, rng=random.Random(7))
        await gateway.send(
            SmsMessage(
                message_id=str(uuid.uuid4()),
                sender="10639239",
                mobile=QINGDAO_MOBILE,
                text="【中国医疗保障】test",
            )
        )

        first = await gateway.receipts()
        again = await gateway.receipts()  # the dispatcher died before acknowledging
        await gateway.acknowledge([first[0].message_id])
        after = await gateway.receipts()

    assert len(first) == 1
    assert [(r.message_id, r.delivered, r.received_at) for r in again] == [
        (r.message_id, r.delivered, r.received_at) for r in first
    ]
    assert after == []


async def test_undelivered_receipts_fail_the_message(service):
    person = new_person_id()
    async with service(gateway_undelivered_rate=1.0) as notification:
        notification.start()
        request = notice(person)
        await notification.publish(registered(person, QINGDAO_MOBILE, date(1990, 5, 1)), request)

        message = (await notification.wait_final(1))[notice_id(request)]
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=2,
        )

    assert message["status"] == "failed"
    assert message["sent_at"] is not None and message["delivered_at"] is None
    assert "LOCAL:UNDELIVERED" in message["last_error"]
    types = [Envelope.from_record(r.key, r.value, r.headers).type for r in status]
    assert types == ["chs.notices.sent.v1", "chs.notices.failed.v1"]


async def test_a_notice_that_can_never_be_rendered_is_dead_lettered(service):
    person = new_person_id()
    unknown = notice(person, template_id="enrollment.no_such_template")
    incomplete = notice(person, params={"insutype_name": "城乡居民基本医疗保险"})
    fine = notice(person)
    async with service() as notification:
        notification.start()
        await notification.publish(
            registered(person, QINGDAO_MOBILE, date(1990, 5, 1)), unknown, incomplete, fine
        )
        messages = await notification.wait_final(1)
        dead = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(dlq_of(NOTICE_REQUESTS)),
            expected=2,
        )

    assert list(messages) == [notice_id(fine)]
    reasons = {
        dict(r.headers)["ce_id"].decode(): dict(r.headers)["dlq_reason"].decode() for r in dead
    }
    assert "unknown template 'enrollment.no_such_template'" in reasons[unknown.id]
    assert reasons[incomplete.id] == (  # name is left to the directory, not missing
        "template enrollment.registered is missing params: region_name, start_date "
        f"(notice {notice_id(incomplete)})"
    )


async def test_a_notice_waits_for_its_contact_parked_until_it_arrives(service):
    late, unknown = new_person_id(), new_person_id()
    guardian, newborn = new_person_id(), new_person_id()
    late_notice, unknown_notice = notice(late), notice(unknown)
    newborn_notice = notice(
        newborn,
        template_id="enrollment.newborn_enrolled",
        params={"newborn_name": "王小宝", "region_name": "寿光市", "start_date": "2026年3月5日"},
    )
    async with service(contact_grace_seconds=4.0) as notification:
        notification.start()
        await notification.publish(late_notice, unknown_notice, newborn_notice)

        async def waiting():
            return await parked(notification) == {late, unknown, newborn}

        await until(waiting, timeout=15)
        assert await notification.messages() == {}  # nothing to send yet
        # the contacts arrive after the notices (they travel on another topic)
        contacts_sent = datetime.now(UTC)
        await notification.publish(
            registered(late, JIANGSU_MOBILE, date(1990, 5, 1)),
            registered(guardian, QINGDAO_MOBILE, date(1995, 7, 7), name="王芳"),
            contact(newborn, None, date(2026, 3, 5), "王小宝", guardian_person_id=guardian),
        )
        messages = await notification.wait_final(2, within=30)
        await asyncio.sleep(6.0)  # past the grace period: the unknown one still waits
        sms = {row["message_id"]: row for row in await notification.sms()}
        still_waiting = await parked(notification)
        notification.start_relay()
        status = await read_topic(
            notification.settings.kafka_bootstrap,
            notification.settings.topic(NOTICE_STATUS),
            expected=4,
        )

    sent_late = messages[notice_id(late_notice)]
    assert sent_late["status"] == "delivered"
    # queued when the contact arrived, not before
    assert sent_late["created_at"] >= contacts_sent - timedelta(seconds=1)
    to_guardian = messages[notice_id(newborn_notice)]
    assert to_guardian["status"] == "delivered"
    assert to_guardian["recipient_person_id"] == guardian
    assert sms[to_guardian["message_id"]]["mobile"] == QINGDAO_MOBILE
    assert sms[to_guardian["message_id"]]["text"] == (
        f"{TAG}尊敬的王芳，您的孩子王小宝已在寿光市办理出生即参保，"
        "参保开始日期为2026年3月5日，可按规定享受医保待遇。"
    )
    assert notice_id(unknown_notice) not in messages and still_waiting == {unknown}
    assert len(sms) == 2
    assert not [r for r in status if r.key.decode() == unknown]


async def test_an_sms_is_sent_when_its_contact_arrives_after_the_old_grace_period(service):
    """Notification used to give a notice up when its contact came more than
    ``CHS_CONTACT_GRACE_SECONDS`` (60 s) after it; here the grace is 1 s and the contact comes
    3 s after the notice."""
    late = new_person_id()
    late_notice = notice(late)
    async with service(contact_grace_seconds=1.0) as notification:
        notification.start()
        await notification.publish(late_notice)
        await asyncio.sleep(3.0)
        await notification.publish(registered(late, QINGDAO_MOBILE, date(1990, 5, 1)))
        messages = await notification.wait_final(1, within=30)
        [sms] = await notification.sms()

    assert messages[notice_id(late_notice)]["status"] == "delivered"
    assert (sms["mobile"], sms["text"]) == (QINGDAO_MOBILE, registered_text())


async def parked(notification: Notification) -> set[str]:
    """The persons whose notices wait for a contact."""
    rows = await notification.fetch(
        "select record_key from parked_events where consumer = 'notification-requests'"
    )
    return {row["record_key"] for row in rows}


async def test_a_newborn_notice_to_the_guardian_gets_the_newborns_name_from_the_directory(
    service,
):
    guardian, newborn = new_person_id(), new_person_id()
    # as progress-notices sends it: the newborn by id, no names
    born = notice(
        guardian,
        template_id="enrollment.newborn_enrolled",
        params={
            "newborn_person_id": newborn,
            "region_name": "寿光市",
            "start_date": "2026年3月5日",
        },
    )
    async with service() as notification:
        notification.start()
        await notification.publish(born)
        await notification.publish(
            registered(guardian, QINGDAO_MOBILE, date(1995, 7, 7), name="王芳"),
            contact(newborn, None, date(2026, 3, 5), "王小宝", guardian_person_id=guardian),
        )
        messages = await notification.wait_final(1, within=30)
        [sms] = await notification.sms()

    assert messages[notice_id(born)]["status"] == "delivered"
    assert (sms["mobile"], sms["text"]) == (
        QINGDAO_MOBILE,
        f"{TAG}尊敬的王芳，您的孩子王小宝已在寿光市办理出生即参保，"
        "参保开始日期为2026年3月5日，可按规定享受医保待遇。",
    )


async def test_a_mobile_change_sends_its_code_to_the_new_number_and_tells_the_old_one(service):
    person = new_person_id()
    old, new = QINGDAO_MOBILE, JIANGSU_MOBILE
    expires = datetime.now(UTC) + timedelta(minutes=10)
    async with service() as notification:
        notification.start()
        await notification.publish(
            registered(person, old, date(1990, 5, 1)),
            # requested: only the code goes to the new number; the directory keeps the old one
            contact(
                person,
                old,
                date(1990, 5, 1),
                pending=PendingMobile(mobile=new, code="382716", expires_at=expires),
            ),
            # a replayed request whose code expired sends nothing
            contact(
                person,
                old,
                date(1990, 5, 1),
                pending=PendingMobile(
                    mobile=new, code="111111", expires_at=datetime.now(UTC) - timedelta(seconds=1)
                ),
            ),
        )
        await notification.wait_final(1, within=30)
        [code_sms] = await notification.sms()
        assert code_sms["mobile"] == new and "382716" in code_sms["text"]
        [row] = (await notification.messages()).values()
        assert row["template_id"] == "enrollment.contact_confirmation"
        assert "382716" not in row["text"] and "******" in row["text"]  # shown masked
        assert row["mobile_masked"] == "139****5678" and row["person_id"] == person
        [directory] = await notification.fetch(
            "select mobile from contacts where person_id = $1", person
        )
        assert directory["mobile"] == old

        # confirmed: the previous number is told; later notices go to the new one
        await notification.publish(contact(person, new, date(1990, 5, 1)))
        await notification.wait_final(2, within=30)
        later = notice(person)
        await notification.publish(later)
        await notification.wait_final(3, within=30)
        sms = await notification.sms()
        await asyncio.sleep(0.5)
        assert len(await notification.sms()) == 3

    told = next(r for r in sms if r["message_id"] != code_sms["message_id"] and r["mobile"] == old)
    assert told["text"] == (
        f"{TAG}尊敬的张三，您在医保登记的手机号已变更为139****5678。"
        "如非本人操作，请及时联系当地医保经办机构。"
    )
    assert [r["mobile"] for r in sms].count(new) == 2
    assert sms[-1]["mobile"] == new and sms[-1]["text"] == registered_text()


async def test_http_api_lists_a_persons_messages_and_delivery_stats(service):
    person, other = new_person_id(), new_person_id()
    first, second = (
        notice(person),
        notice(
            person,
            template_id="enrollment.terminated",
            params={
                "insutype_name": "城乡居民基本医疗保险",
                "end_date": "2026年6月30日",
                "reason": "已参加其他地区医保",
            },
        ),
    )
    async with service(gateway_undelivered_rate=0.0) as notification:
        notification.start()
        await notification.publish(
            registered(person, QINGDAO_MOBILE, date(1990, 5, 1)),
            registered(other, JIANGSU_MOBILE, date(1991, 1, 1)),
            first,
        )
        await notification.wait_final(1)
        await notification.publish(second, notice(other))
        messages = await notification.wait_final(3)

        async with (
            running(create_app(notification.settings)) as app,
            client_of(app, "notification") as http,
        ):
            # The person reads their own messages; the admin any message; an agency the stats.
            own = bearer("notification", kind="person", person_id=person)
            agency = bearer("notification", kind="agency")
            listing = await http.get(f"/persons/{person}/messages", headers=own)
            one = await http.get(
                f"/messages/{messages[notice_id(first)]['message_id']}", headers=own
            )
            missing = await http.get(f"/messages/{uuid.uuid4()}")
            today = datetime.now(CHINA).date().isoformat()
            stats = await http.get(
                "/stats/delivery", params={"date_from": today, "date_to": today}, headers=agency
            )
            only = await http.get(
                "/stats/delivery",
                params={
                    "date_from": today,
                    "date_to": today,
                    "template_id": "enrollment.registered",
                },
                headers=agency,
            )
            backwards = await http.get(
                "/stats/delivery",
                params={"date_from": today, "date_to": "2020-01-01"},
                headers=agency,
            )
            templates = await http.get("/templates", headers=own)

    assert listing.status_code == 200
    body = listing.json()
    assert body["person_id"] == person
    assert [m["notice_id"] for m in body["messages"]] == [
        notice_id(second),
        notice_id(first),
    ]
    newest = body["messages"][0]
    assert newest["template_id"] == "enrollment.terminated"
    assert newest["category"] == "business_result"
    assert newest["text"].startswith(TAG) and "2026年6月30日" in newest["text"]
    assert newest["sender"] == "10639239"
    assert newest["mobile_masked"] == "138****2345"
    assert newest["status"] == "delivered"
    assert {"created_at", "sent_at", "delivered_at", "final_at"} <= set(newest)
    assert QINGDAO_MOBILE not in listing.text

    assert one.status_code == 200 and one.json()["notice_id"] == notice_id(first)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    assert stats.status_code == 200
    rows = {row["template_id"]: row for row in stats.json()["rows"]}
    assert rows["enrollment.registered"] == {
        "template_id": "enrollment.registered",
        "day": today,
        "total": 2,
        "delivered": 2,
        "failed": 0,
        "undeliverable": 0,
        "opted_out": 0,
        "capped": 0,
        "pending": 0,
        "success_rate": "100.0",
    }
    assert rows["enrollment.terminated"]["total"] == 1
    assert [row["template_id"] for row in only.json()["rows"]] == ["enrollment.registered"]
    assert backwards.status_code == 422

    assert templates.status_code == 200
    registry = {t["template_id"]: t for t in templates.json()}
    assert registry["enrollment.registered"]["params"] == [
        "name",
        "insutype_name",
        "region_name",
        "start_date",
    ]


async def test_killed_workers_lose_no_notice_and_send_none_twice(
    kafka_bootstrap, database_url, topic_prefix, service
):
    """The real processes, SIGKILLed mid-stream and restarted."""
    people = [new_person_id() for _ in range(300)]
    async with service() as notification:  # creates the topics and the database
        await notification.publish(
            *(
                registered(p, f"1385321{n:04d}", date(1970 + n % 40, 1, 1))
                for n, p in enumerate(people)
            )
        )
        await notification.publish(*(notice(p) for p in people))

        platform = Platform(kafka_bootstrap, database_url, prefix=topic_prefix)
        extra = {
            "CHS_DATABASE_NAME": notification.settings.database_name,
            "CHS_GATEWAY_FAILURE_RATE": "0.2",
            "CHS_SEND_RETRY_BASE_DELAY": "0.05",
            "CHS_SEND_RETRY_MAX_DELAY": "0.2",
            "CHS_SEND_MAX_ATTEMPTS": "30",
            "CHS_DISPATCH_BATCH_SIZE": "10",
        }
        platform.add("consume", "chs_notification", "consume", "notification", **extra)
        platform.add("dispatch", "chs_notification", "dispatch", "notification", **extra)
        platform.start()
        try:

            async def queued_at_least(count):
                return len(await notification.fetch("select 1 from messages")) >= count

            await until(lambda: queued_at_least(20), timeout=60, interval=0.02)
            platform.kill("consume")
            queued_at_kill = len(await notification.fetch("select 1 from messages"))
            platform.restart("consume")

            async def sent_at_least(count):
                return len(await notification.sms()) >= count

            await until(lambda: sent_at_least(30), timeout=60, interval=0.02)
            platform.kill("dispatch")
            sent_at_kill = len(await notification.sms())
            platform.restart("dispatch")
            messages = await notification.wait_final(len(people), within=90)
        finally:
            platform.stop()
        sms = await notification.sms()

    assert queued_at_kill < len(people) and sent_at_kill < len(people)  # killed mid-stream
    assert len(messages) == len(people)
    assert {m["status"] for m in messages.values()} == {"delivered"}
    assert len(sms) == len(people)
    assert len({row["mobile"] for row in sms}) == len(people)


async def test_a_batch_is_sent_recorded_and_announced_message_by_message(service):
    """One dispatch round: the claim, the contacts, one gateway call and the batch's changes
    with their events; each message ends as it would alone."""
    sent_one, sent_two, invalid, missing = (new_person_id() for _ in range(4))
    notices = {p: notice(p) for p in (sent_one, sent_two, invalid, missing)}
    async with service(dispatch_batch_size=10) as notification:
        assert notification.pool is not None
        async with notification.pool.acquire() as conn:
            for person, mobile in (
                (sent_one, QINGDAO_MOBILE),
                (sent_two, JIANGSU_MOBILE),
                (invalid, "12345678901"),
            ):
                await upsert_contact(
                    conn,
                    person,
                    name="张三",
                    mobile=mobile,
                    birth_date=date(1990, 5, 1),
                    guardian_person_id=None,
                    at=datetime.now(UTC),
                )
            for envelope in notices.values():
                await insert_message(
                    conn,
                    RequestNotice.of(envelope.event),
                    message_id=message_id_for(notice_id(envelope)),
                    request_event_id=envelope.id,
                    correlation_id=envelope.correlation_id,
                )
        dispatcher = Dispatcher(
            notification.pool, LocalGateway(notification.pool), notification.settings
        )
        assert await dispatcher.dispatch_due() == 4
        after_send = await notification.messages()
        sms = await notification.sms()
        await dispatcher.run_once()  # the receipts
        after_receipts = await notification.messages()
        outbox = await notification.fetch("select key, headers from outbox order by position")

    def status(rows, person):
        return rows[notice_id(notices[person])]

    assert status(after_send, sent_one)["status"] == "sent"
    assert status(after_send, sent_two)["sender"] == "106575376196"
    assert status(after_send, invalid)["status"] == "undeliverable"
    assert status(after_send, invalid)["last_error"].startswith("invalid mobile 123****8901")
    assert (status(after_send, missing)["status"], status(after_send, missing)["last_error"]) == (
        "queued",
        "waiting for the contact",
    )
    assert sorted(row["mobile"] for row in sms) == sorted([QINGDAO_MOBILE, JIANGSU_MOBILE])
    assert {status(after_receipts, p)["status"] for p in (sent_one, sent_two)} == {"delivered"}
    announced: dict[str, list[str]] = {}
    for row in outbox:
        headers = dict(row["headers"])
        announced.setdefault(row["key"], []).append(headers["ce_type"])
        assert headers["ce_source"] == "/chs/notification"
    assert announced == {
        sent_one: ["chs.notices.sent.v1", "chs.notices.delivered.v1"],
        sent_two: ["chs.notices.sent.v1", "chs.notices.delivered.v1"],
        invalid: ["chs.notices.undeliverable.v1"],
    }


async def test_the_local_gateway_takes_a_batch_as_it_takes_single_sends(service):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    def sms(message_id: str, mobile: str = QINGDAO_MOBILE) -> SmsMessage:
        return SmsMessage(message_id=message_id, sender="10639239", mobile=mobile, text=TAG)

    async with service() as notification:
        gateway = LocalGateway(notification.pool)
        alone = await gateway.send(sms(first))
        outcomes = await gateway.send_many(
            [sms(first), sms(str(uuid.uuid4()), "12345678901"), sms(second)]
        )
        recorded = {str(row["message_id"]): row for row in await notification.sms()}

    again, invalid, taken = outcomes
    assert again == alone  # a resend: the same SMS
    assert isinstance(invalid, PermanentGatewayError)
    assert isinstance(taken, SendResult) and taken.accepted
    assert set(recorded) == {first, second}
    assert recorded[first]["submissions"] == 2 and recorded[second]["submissions"] == 1
    assert recorded[second]["provider_message_id"] == taken.provider_message_id
