"""Parking (``chs_events.parking``) through the real consumer runner, broker and database: an
event whose prerequisite has not arrived waits in the consumer's database instead of being
retried into the dead-letter topic, and is applied, once and in order, when it arrives."""

import asyncio
from datetime import date

import pytest
from prometheus_client import REGISTRY

from chs_events import parking
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered, EnrollmentTerminated, StaffRemoved
from chs_events.processing import Awaiting
from chs_events.retry import Backoff
from chs_events.topics import ENROLLMENT_EVENTS, dlq_of
from chs_events.unit_of_work import UnitOfWork
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id

pytestmark = pytest.mark.integration

CONSUMER = "test-parking"


def staff_removed(person: str, marker: str) -> Envelope:
    """Needs the person to be known (its prerequisite)."""
    return Envelope(
        StaffRemoved(
            person_id=person, employer_id=marker, enrollment_id="e1", end_date=date(2025, 1, 1)
        ),
        source="/chs/test",
    )


def registered(person: str) -> Envelope:
    """Makes the person known: releases what waits for it."""
    return Envelope(
        EnrollmentRegistered(
            person_id=person,
            enrollment_id="e1",
            insutype="390",
            pooling_region="370200",
            start_date=date(2025, 1, 1),
        ),
        source="/chs/test",
    )


def terminated(person: str) -> Envelope:
    """Needs nothing, but comes after the person's earlier events."""
    return Envelope(
        EnrollmentTerminated(
            person_id=person,
            enrollment_id="e1",
            insutype="390",
            end_date=date(2026, 1, 31),
            reason="other",
        ),
        source="/chs/test",
    )


@pytest.fixture
async def pool(database):
    _, pool = database
    async with pool.acquire() as conn:
        await conn.execute(
            """create table known (person_id text primary key);
               create table effects (seq serial, event_id uuid, person_id text, what text)"""
        )
    return pool


async def effect(uow: UnitOfWork, envelope: Envelope, what: str) -> None:
    await uow.conn.execute(
        "insert into effects (event_id, person_id, what) values ($1, $2, $3)",
        envelope.id,
        envelope.event.person_id,
        what,
    )


async def on_staff_removed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, StaffRemoved)
    if not await uow.conn.fetchval("select true from known where person_id = $1", event.person_id):
        raise Awaiting("person", event.person_id, "the person is not known yet")
    await effect(uow, envelope, event.employer_id)


@parking.releases  # the same consumer's events wait for it: it must not wait behind them
async def on_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    await uow.conn.execute("insert into known values ($1)", envelope.event.person_id)
    await parking.release(uow.conn, "person", envelope.event.person_id)
    await effect(uow, envelope, "known")


async def on_terminated(uow: UnitOfWork, envelope: Envelope) -> None:
    await effect(uow, envelope, "terminated")


HANDLERS = {
    EnrollmentTerminated.ce_type: on_terminated,
    StaffRemoved.ce_type: on_staff_removed,
    EnrollmentRegistered.ce_type: on_registered,
}


async def publish(settings, *envelopes: Envelope) -> None:
    await broker.publish(settings, settings.topic(ENROLLMENT_EVENTS), *envelopes)


def start(settings, pool) -> tuple[asyncio.Event, asyncio.Task]:
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=CONSUMER,
        topics=[ENROLLMENT_EVENTS],
        handlers=HANDLERS,
        pool=pool,
        settings=settings,
        backoff=Backoff(max_attempts=3, base_delay=0.05),  # retried out within 0.2 s
    )
    return stop, asyncio.create_task(runner.run(stop))


async def effects_of(pool, person: str) -> list[str]:
    rows = await pool.fetch("select what from effects where person_id = $1 order by seq", person)
    return [row["what"] for row in rows]


async def parked_of(pool, person: str) -> list[str]:
    rows = await pool.fetch(
        "select event_type from parked_events where consumer = $1 and record_key = $2 "
        "order by position",
        CONSUMER,
        person,
    )
    return [row["event_type"] for row in rows]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"consumer": CONSUMER, **labels}) or 0.0


async def test_an_event_before_its_prerequisite_is_parked_then_applied_in_order_once(
    settings, pool
):
    late, other = new_person_id(), new_person_id()
    first, second = staff_removed(late, "first"), staff_removed(late, "second")
    dead_before = sample("chs_events_dead_lettered_total", topic=ENROLLMENT_EVENTS)
    settings = settings.model_copy(update={"parking_check_seconds": 0.2})  # the gauge's
    await publish(
        settings,
        first,
        terminated(late),  # needs nothing, yet waits behind the person's parked event
        second,
        registered(other),
        staff_removed(other, "other's"),  # the stream moves on meanwhile
    )
    stop, task = start(settings, pool)
    try:

        async def parked_and_moved_on():
            return await parked_of(pool, late) == [
                StaffRemoved.ce_type,
                EnrollmentTerminated.ce_type,
                StaffRemoved.ce_type,
            ] and await effects_of(pool, other) == ["known", "other's"]

        await until(parked_and_moved_on)
        await asyncio.sleep(1.0)  # well past the retries: still parked, nothing dead-lettered
        assert len(await parked_of(pool, late)) == 3
        assert await effects_of(pool, late) == []

        async def gauge_is(value):
            return sample("chs_parked_events") == value

        await until(lambda: gauge_is(3))

        await publish(settings, registered(late), first)  # the first one delivered again

        async def applied():
            return await effects_of(pool, late) == ["known", "first", "terminated", "second"]

        await until(applied, timeout=15)
        await until(lambda: gauge_is(0))
        await asyncio.sleep(1.0)  # time for a wrong second application to show up
    finally:
        stop.set()
        await task

    assert await effects_of(pool, late) == ["known", "first", "terminated", "second"]
    assert await parked_of(pool, late) == []
    assert sample("chs_events_dead_lettered_total", topic=ENROLLMENT_EVENTS) == dead_before
    assert sample("chs_events_parked_total", topic=ENROLLMENT_EVENTS, awaiting="person") >= 1
    assert sample("chs_events_parked_total", topic=ENROLLMENT_EVENTS, awaiting="behind") >= 2
    assert sample("chs_events_unparked_total", outcome="applied") >= 3


async def test_a_parked_event_past_its_bound_goes_to_the_dlq_with_the_reason(settings, pool):
    never, other = new_person_id(), new_person_id()
    waiting = staff_removed(never, "never")
    bounded = settings.model_copy(
        update={"parking_bound_seconds": 1.0, "parking_check_seconds": 0.2}
    )
    await publish(bounded, waiting, registered(other))
    stop, task = start(bounded, pool)
    try:
        [dead] = await read_topic(
            bounded.kafka_bootstrap, bounded.topic(dlq_of(ENROLLMENT_EVENTS)), 1, timeout=30
        )
        assert await effects_of(pool, other) == ["known"]
    finally:
        stop.set()
        await task

    headers = dict(dead.headers)
    record = waiting.to_record()
    assert (dead.key, dead.value) == (record.key, record.value)  # the record as it came
    assert headers["ce_id"] == waiting.id.encode()
    assert headers["dlq_error_type"] == b"ParkedTooLong"
    reason = headers["dlq_reason"].decode()
    assert reason.startswith("parked awaiting person for more than 1 s")
    assert "the person is not known yet" in reason
    assert headers["dlq_consumer"] == CONSUMER.encode()
    assert headers["dlq_source_topic"] == bounded.topic(ENROLLMENT_EVENTS).encode()
    assert await parked_of(pool, never) == []
    assert await effects_of(pool, never) == []
    # not claimed any more: the dead letter redriven (its cause gone) is applied like any other
    claimed = "select count(*) from inbox where consumer = $1 and event_id = $2"
    assert await pool.fetchval(claimed, CONSUMER, waiting.id) == 0
