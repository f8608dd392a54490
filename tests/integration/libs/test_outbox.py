import asyncio
from collections import defaultdict

import pytest
from prometheus_client import REGISTRY

from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContactChanged
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay, record
from chs_events.topics import ENROLLMENT_EVENTS
from tests.support.broker import read_topic, until

pytestmark = pytest.mark.integration

PERSONS = [f"p{n:032x}" for n in range(5)]


def published_count() -> float:
    return (
        REGISTRY.get_sample_value(
            "chs_events_published_total",
            {"topic": ENROLLMENT_EVENTS, "type": ContactChanged.ce_type},
        )
        or 0.0
    )


async def record_changes(pool, per_person: int) -> list[Envelope]:
    recorded = []
    for _ in range(per_person):
        for person in PERSONS:
            envelope = Envelope(ContactChanged(person_id=person), source="/chs/test")
            async with pool.acquire() as conn, conn.transaction():
                await record(conn, envelope)
            recorded.append(envelope)
    return recorded


async def start_relay(settings, dsn, stop):
    producer = create_producer(settings, "relay")
    await producer.start()
    relay = OutboxRelay(
        dsn, producer, service="test", topic_prefix=settings.topic_prefix, poll_interval=0.2
    )

    async def run():
        try:
            await relay.run(stop)
        finally:
            await producer.stop()

    return asyncio.create_task(run())


async def test_relay_publishes_every_event_in_order_per_person(settings, database):
    dsn, pool = database
    recorded = await record_changes(pool, per_person=20)
    published_before = published_count()
    stop = asyncio.Event()
    relay = await start_relay(settings, dsn, stop)
    records = await read_topic(
        settings.kafka_bootstrap, settings.topic(ENROLLMENT_EVENTS), expected=len(recorded)
    )
    stop.set()
    await relay

    assert len(records) == len(recorded)
    published = defaultdict(list)
    for rec in records:
        envelope = Envelope.from_record(rec.key, rec.value, rec.headers)
        assert isinstance(envelope.event, ContactChanged)
        published[envelope.event.person_id].append(envelope.id)
    for person in PERSONS:
        in_order = [e.id for e in recorded if e.event.person_id == person]
        assert len(in_order) == 20 and published[person] == in_order
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from outbox where published_at is null") == 0
    assert published_count() - published_before == len(recorded)
    assert REGISTRY.get_sample_value("chs_outbox_backlog", {"service": "test"}) == 0


async def test_rolled_back_change_publishes_nothing(settings, database):
    _, pool = database
    envelope = Envelope(ContactChanged(person_id=PERSONS[0]), source="/chs/test")
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await record(conn, envelope)
            raise RuntimeError("the change failed")
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from outbox") == 0


async def test_relay_wakes_on_commit_without_waiting_for_the_poll(settings, database):
    dsn, pool = database
    stop = asyncio.Event()
    producer = create_producer(settings, "relay")
    await producer.start()
    relay = OutboxRelay(
        dsn, producer, service="test", topic_prefix=settings.topic_prefix, poll_interval=30.0
    )
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(1.0)  # the relay is now waiting, with 30 s to go before it polls
    await record_changes(pool, per_person=1)

    async def all_published():
        async with pool.acquire() as conn:
            return await conn.fetchval("select count(*) = 0 from outbox where published_at is null")

    await until(all_published, timeout=5.0)
    stop.set()
    await task
    await producer.stop()


async def test_two_relays_publish_each_event_once(settings, database):
    dsn, pool = database
    stop = asyncio.Event()
    relays = [await start_relay(settings, dsn, stop) for _ in range(2)]
    recorded = await record_changes(pool, per_person=10)
    records = await read_topic(
        settings.kafka_bootstrap, settings.topic(ENROLLMENT_EVENTS), expected=len(recorded)
    )
    assert sorted(dict(r.headers)["ce_id"].decode() for r in records) == sorted(
        e.id for e in recorded
    )

    # the standby takes over when the leader stops
    relays[0].cancel()
    await asyncio.gather(relays[0], return_exceptions=True)
    more = await record_changes(pool, per_person=1)
    records = await read_topic(
        settings.kafka_bootstrap,
        settings.topic(ENROLLMENT_EVENTS),
        expected=len(recorded) + len(more),
    )
    assert len(records) == len(recorded) + len(more)
    stop.set()
    await asyncio.gather(*relays, return_exceptions=True)


def quarantined_count() -> float:
    return (
        REGISTRY.get_sample_value(
            "chs_outbox_quarantined_total", {"service": "test", "topic": ENROLLMENT_EVENTS}
        )
        or 0.0
    )


async def pending_positions(pool) -> list[int]:
    async with pool.acquire() as conn:
        return [
            r["position"]
            for r in await conn.fetch(
                "select position from outbox where published_at is null order by position"
            )
        ]


async def test_relay_rides_out_the_loss_of_its_database_connection(settings, database):
    dsn, pool = database
    stop = asyncio.Event()
    relay = await start_relay(settings, dsn, stop)
    first = await record_changes(pool, per_person=1)
    await until(lambda: _none_pending(pool), timeout=10.0)
    async with pool.acquire() as conn:  # the server ends the relay's session, as a restart would
        ended = await conn.fetchval(
            """select count(pg_terminate_backend(pid)) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid()
                 and application_name = 'test-outbox-relay'"""
        )
    assert ended == 1
    more = await record_changes(pool, per_person=2)
    records = await read_topic(
        settings.kafka_bootstrap,
        settings.topic(ENROLLMENT_EVENTS),
        expected=len(first) + len(more),
    )
    assert not relay.done()  # it did not exit
    assert sorted(dict(r.headers)["ce_id"].decode() for r in records) == sorted(
        e.id for e in first + more
    )
    stop.set()
    await relay


async def _none_pending(pool) -> bool:
    return not await pending_positions(pool)


async def test_a_row_the_broker_cannot_take_is_quarantined_and_blocks_only_its_key(
    settings, database
):
    dsn, pool = database
    blocked, other = PERSONS[0], PERSONS[1]
    oversized = Envelope(ContactChanged(person_id=blocked), source="/chs/test")
    async with pool.acquire() as conn, conn.transaction():
        await record(conn, oversized)
        # More than the producer's max_request_size (1 MiB): Kafka can never take it.
        await conn.execute(
            "update outbox set payload = $1 where event_id = $2",
            b"x" * (2 * 1024 * 1024),
            oversized.id,
        )
    behind = Envelope(ContactChanged(person_id=blocked), source="/chs/test")
    flowing = Envelope(ContactChanged(person_id=other), source="/chs/test")
    for envelope in (behind, flowing):
        async with pool.acquire() as conn, conn.transaction():
            await record(conn, envelope)
    quarantined_before = quarantined_count()
    stop = asyncio.Event()
    relay = await start_relay(settings, dsn, stop)
    records = await read_topic(
        settings.kafka_bootstrap, settings.topic(ENROLLMENT_EVENTS), expected=1
    )
    await asyncio.sleep(1.0)  # a poll later, still nothing of the blocked key
    stop.set()
    await relay

    assert [dict(r.headers)["ce_id"].decode() for r in records] == [flowing.id]
    async with pool.acquire() as conn:
        rows = {
            r["event_id"]: r
            for r in await conn.fetch(
                "select event_id::text, published_at, quarantined_at, quarantine_reason from outbox"
            )
        }
    assert rows[oversized.id]["quarantined_at"] is not None
    assert "MessageSizeTooLargeError" in rows[oversized.id]["quarantine_reason"]
    assert rows[behind.id]["published_at"] is None and rows[behind.id]["quarantined_at"] is None
    assert rows[flowing.id]["published_at"] is not None
    assert quarantined_count() - quarantined_before == 1
