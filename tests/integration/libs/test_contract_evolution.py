"""The contract evolves without breaking consumers: through the real consumer runner, a record
of a newer version of a known event (a field this code does not know) and a record of an event
type this code has never heard of, between two known events."""

import asyncio
from datetime import date

import orjson
import pytest
from prometheus_client import REGISTRY

from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.enrollment import StaffRemoved
from chs_events.topics import ENROLLMENT_EVENTS, dlq_of
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id

pytestmark = pytest.mark.integration

CONSUMER = "test-evolution"
NEWER_TYPE = "chs.enrollment.staff_seconded.v1"  # deployed by a producer after this code


def removed(person: str, marker: str) -> Envelope:
    return Envelope(
        StaffRemoved(
            person_id=person, employer_id=marker, enrollment_id="e1", end_date=date(2025, 1, 1)
        ),
        source="/chs/enrollment",
    )


def with_extra_field(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The record of a producer a version ahead: the same v1 type with one field more."""
    record = envelope.to_record()
    data = orjson.loads(record.value)
    data["seconded_to"] = "E-NEW"
    return record.key, orjson.dumps(data), record.headers


def of_newer_type(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    record = envelope.to_record()
    headers = [(n, NEWER_TYPE.encode() if n == "ce_type" else v) for n, v in record.headers]
    return record.key, orjson.dumps({"person_id": envelope.key, "to": "E-NEW"}), headers


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"consumer": CONSUMER, **labels}) or 0.0


@pytest.fixture
async def pool(database):
    _, pool = database
    await pool.execute("create table effects (seq serial, event_id uuid, what text)")
    return pool


async def test_known_events_around_a_newer_contract_are_applied(settings, pool):
    person = new_person_id()
    first, newer, last = removed(person, "first"), removed(person, "newer"), removed(person, "last")
    known = last.to_record()
    records = [
        with_extra_field(first),
        of_newer_type(newer),
        (known.key, known.value, known.headers),
    ]
    dead_before = sample("chs_events_dead_lettered_total", topic=ENROLLMENT_EVENTS)
    ignored_before = sample("chs_events_ignored_total", type=NEWER_TYPE)
    await broker.publish(settings, settings.topic(ENROLLMENT_EVENTS), *records)

    async def on_removed(uow, envelope):
        await uow.conn.execute(
            "insert into effects (event_id, what) values ($1, $2)",
            envelope.id,
            envelope.event.employer_id,
        )

    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=CONSUMER,
        topics=[ENROLLMENT_EVENTS],
        handlers={StaffRemoved.ce_type: on_removed},
        pool=pool,
        settings=settings,
    )
    task = asyncio.create_task(runner.run(stop))
    try:

        async def both_applied():
            rows = await pool.fetch("select event_id, what from effects order by seq")
            return [(str(r["event_id"]), r["what"]) for r in rows] == [
                (first.id, "first"),
                (last.id, "last"),
            ]

        await until(both_applied)
        dead = await read_topic(
            settings.kafka_bootstrap, settings.topic(dlq_of(ENROLLMENT_EVENTS)), 0, timeout=1
        )
    finally:
        stop.set()
        await task

    assert dead == []
    assert sample("chs_events_dead_lettered_total", topic=ENROLLMENT_EVENTS) == dead_before
    assert sample("chs_events_ignored_total", type=NEWER_TYPE) == ignored_before + 1
