import asyncio
from datetime import date

import pytest
from prometheus_client import REGISTRY

from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.enrollment import StaffRemoved
from chs_events.processing import PermanentError
from chs_events.retry import Backoff
from chs_events.topics import ENROLLMENT_EVENTS, dlq_of
from tests.support import broker
from tests.support.broker import read_topic, until

pytestmark = pytest.mark.integration

# The test's events: a StaffRemoved whose employer_id is a marker (named mobile here).
CONTACT_CHANGED = StaffRemoved.ce_type


def change(person: str, mobile: str) -> Envelope:
    return Envelope(
        StaffRemoved(
            person_id=person, employer_id=mobile, enrollment_id="e1", end_date=date(2025, 1, 1)
        ),
        source="/chs/test",
    )


async def publish(settings, *records) -> None:
    await broker.publish(settings, settings.topic(ENROLLMENT_EVENTS), *records)


def as_tuple(envelope: Envelope):
    record = envelope.to_record()
    return record.key, record.value, record.headers


@pytest.fixture
async def effects(database):
    _, pool = database
    async with pool.acquire() as conn:
        await conn.execute("create table effects (event_id uuid, mobile text)")
    return pool


async def applied(pool) -> list[str]:
    async with pool.acquire() as conn:
        return [r["mobile"] for r in await conn.fetch("select mobile from effects")]


async def run_consumer(settings, pool, handler, backoff=Backoff(max_attempts=3, base_delay=0.05)):
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name="test-consumer",
        topics=[ENROLLMENT_EVENTS],
        handlers={CONTACT_CHANGED: handler},
        pool=pool,
        settings=settings,
        backoff=backoff,
    )
    return stop, asyncio.create_task(runner.run(stop))


def metric(name: str, **labels: str) -> float:
    labels = {"consumer": "test-consumer", "topic": ENROLLMENT_EVENTS, **labels}
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def record_effect(uow, envelope):
    await uow.conn.execute(
        "insert into effects values ($1, $2)", envelope.id, envelope.event.employer_id
    )


async def test_malformed_event_goes_to_dlq_with_reason_and_the_stream_moves_on(settings, effects):
    good_before, good_after = change("p1", "13800000001"), change("p1", "13800000002")
    key, value, headers = as_tuple(change("p1", "13800000003"))
    await publish(
        settings,
        as_tuple(good_before),
        (key, b"{not json", headers),
        (key, value, [h for h in headers if h[0] != "ce_type"]),
        as_tuple(good_after),
    )
    stop, task = await run_consumer(settings, effects, record_effect)

    async def both_applied():
        return len(await applied(effects)) == 2

    await until(both_applied)
    dead = await read_topic(
        settings.kafka_bootstrap, settings.topic(dlq_of(ENROLLMENT_EVENTS)), expected=2
    )
    stop.set()
    await task

    assert await applied(effects) == ["13800000001", "13800000002"]
    reasons = [dict(r.headers)["dlq_reason"].decode() for r in dead]
    assert len(dead) == 2
    assert reasons[0].startswith("value is not JSON")
    assert "type" in reasons[1]
    assert dict(dead[0].headers)["dlq_consumer"] == b"test-consumer"
    assert dead[0].value == b"{not json"


async def test_same_event_delivered_twice_takes_effect_once(settings, effects):
    envelope = change("p2", "13800000009")
    await publish(settings, as_tuple(envelope), as_tuple(envelope))
    stop, task = await run_consumer(settings, effects, record_effect)

    async def inbox_has_it():
        async with effects.acquire() as conn:
            return await conn.fetchval("select count(*) from inbox") == 1

    await until(inbox_has_it)
    await asyncio.sleep(1.0)  # the second delivery has been read by now
    stop.set()
    await task
    assert await applied(effects) == ["13800000009"]


async def test_failing_handler_is_retried_then_dead_lettered_without_blocking(settings, effects):
    calls = {"flaky": 0, "broken": 0}

    async def handler(uow, envelope):
        mobile = envelope.event.employer_id
        if mobile == "13800000010":  # fails twice, then works
            calls["flaky"] += 1
            if calls["flaky"] < 3:
                raise RuntimeError("temporarily unavailable")
        if mobile == "13800000011":
            calls["broken"] += 1
            raise RuntimeError("cannot be processed")
        if mobile == "13800000012":
            raise PermanentError("mobile belongs to nobody")
        await record_effect(uow, envelope)

    dead_lettered_before = metric("chs_events_dead_lettered_total")
    failed_before = metric("chs_events_failed_total", type=CONTACT_CHANGED)
    await publish(settings, *(as_tuple(change("p3", f"138000000{n}")) for n in (10, 11, 12, 13)))
    stop, task = await run_consumer(settings, effects, handler)

    async def done():
        return len(await applied(effects)) == 2

    await until(done)
    dead = await read_topic(
        settings.kafka_bootstrap, settings.topic(dlq_of(ENROLLMENT_EVENTS)), expected=2
    )
    stop.set()
    await task

    assert await applied(effects) == ["13800000010", "13800000013"]
    assert calls == {"flaky": 3, "broken": 3}
    by_reason = {dict(r.headers)["dlq_reason"].decode(): dict(r.headers) for r in dead}
    assert by_reason["cannot be processed"]["dlq_attempts"] == b"3"
    assert by_reason["mobile belongs to nobody"]["dlq_attempts"] == b"1"
    assert metric("chs_events_dead_lettered_total") - dead_lettered_before == 2
    assert metric("chs_events_failed_total", type=CONTACT_CHANGED) - failed_before == 2 + 3


async def test_an_os_error_of_the_handler_is_retried_boundedly_not_waited_out(settings, effects):
    """A handler that cannot read a file has a bug, not a database outage: it goes to the
    dead-letter topic after its attempts instead of holding the partition for ever."""
    calls = 0

    async def handler(uow, envelope):
        nonlocal calls
        if envelope.event.employer_id == "13800000020":
            calls += 1
            raise FileNotFoundError("templates/missing.txt")
        await record_effect(uow, envelope)

    await publish(settings, *(as_tuple(change("p4", f"138000000{n}")) for n in (20, 21)))
    stop, task = await run_consumer(settings, effects, handler)
    await until(lambda: _applied_is(effects, ["13800000021"]), timeout=20)
    dead = await read_topic(
        settings.kafka_bootstrap, settings.topic(dlq_of(ENROLLMENT_EVENTS)), expected=1
    )
    stop.set()
    await task

    assert calls == 3
    [record] = dead
    assert dict(record.headers)["dlq_error_type"] == b"FileNotFoundError"


async def _applied_is(pool, expected: list[str]) -> bool:
    return await applied(pool) == expected


async def test_a_batch_applies_in_order_and_passes_over_types_it_has_no_handler_for(
    settings, effects
):
    changes = [change("p4", f"138000001{n:02d}") for n in range(20)]
    key, _, headers = as_tuple(change("p4", "13800000199"))
    # Not this consumer's business: unparsed, so not even its broken value is its concern.
    foreign_type = [(n, b"chs.enrollment.other.v1" if n == "ce_type" else v) for n, v in headers]
    dead_lettered_before = metric("chs_events_dead_lettered_total")
    await publish(
        settings,
        *map(as_tuple, changes[:10]),
        (key, b"{not json", foreign_type),
        *map(as_tuple, changes[10:]),
    )
    stop, task = await run_consumer(settings, effects, record_effect)

    async def all_applied():
        return len(await applied(effects)) == 20

    await until(all_applied)
    await asyncio.sleep(0.5)
    stop.set()
    await task
    async with effects.acquire() as conn:
        in_commit_order = await conn.fetch("select mobile from effects order by ctid")
    assert [r["mobile"] for r in in_commit_order] == [f"138000001{n:02d}" for n in range(20)]
    assert metric("chs_events_dead_lettered_total") == dead_lettered_before
