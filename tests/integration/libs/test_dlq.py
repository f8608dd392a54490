"""The dead-letter tool (``python -m chs_events.dlq``) end to end, on the real broker and
database: an event one consumer dead-lettered for a cause that has since gone is redriven and
applied once by that consumer, not again by the other group of the topic, and a second redrive
changes nothing."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from chs_events import dlq
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.errors import Rejected
from chs_events.events.enrollment import StaffRemoved
from chs_events.retry import Backoff
from chs_events.topics import ENROLLMENT_EVENTS, dlq_of
from tests.support import broker
from tests.support.broker import read_topic, until

pytestmark = pytest.mark.integration

LEDGER, DIRECTORY = "test-ledger", "test-directory"
MOBILE = "13853215678"


def removed(person: str, n: int) -> Envelope:
    return Envelope(
        StaffRemoved(
            person_id=person,
            employer_id=f"E{n}",
            enrollment_id=f"e{n}",
            end_date=date(2025, 1, n),
        ),
        source="/chs/test",
    )


async def publish(settings, *envelopes: Envelope) -> None:
    await broker.publish(settings, settings.topic(ENROLLMENT_EVENTS), *envelopes)


@pytest.fixture
async def pool(database):
    _, pool = database
    async with pool.acquire() as conn:
        await conn.execute("create table effects (consumer text, event_id uuid, employer text)")
    return pool


async def effects(pool, consumer: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "select employer from effects where consumer = $1 order by employer", consumer
        )
    return [row["employer"] for row in rows]


async def claimed(pool, consumer: str, event_id: str) -> bool:
    async with pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "select count(*) from inbox where consumer = $1 and event_id = $2",
                consumer,
                event_id,
            )
        )


def handler(consumer: str, broken: set[str]):
    async def record(uow, envelope):
        if envelope.event.employer_id in broken:  # the cause, until the test removes it
            raise Rejected(f"no account yet for the person of {MOBILE}")
        await uow.conn.execute(
            "insert into effects values ($1, $2, $3)",
            consumer,
            envelope.id,
            envelope.event.employer_id,
        )

    return record


async def tool(settings, capsys, *arguments: str) -> list[str]:
    """``python -m chs_events.dlq <arguments>``: its exit status 0 and its output lines."""
    assert await dlq.run(arguments, settings) == 0
    return capsys.readouterr().out.splitlines()


async def test_a_dead_letter_is_redriven_and_applied_once_by_the_consumer_that_failed(
    settings, pool, capsys
):
    first, failing, last = (removed("p-dlq", n) for n in (1, 2, 3))
    broken = {"E2"}
    stop = asyncio.Event()
    runners = [
        ConsumerRunner(
            name=name,
            topics=[ENROLLMENT_EVENTS],
            handlers={StaffRemoved.ce_type: handler(name, broken if name == LEDGER else set())},
            pool=pool,
            settings=settings,
            backoff=Backoff(max_attempts=2, base_delay=0.05),
        )
        for name in (LEDGER, DIRECTORY)
    ]
    tasks = [asyncio.create_task(runner.run(stop)) for runner in runners]
    try:
        await publish(settings, first, failing, last)

        async def consumed():
            return (
                await effects(pool, LEDGER) == ["E1", "E3"]
                and len(await effects(pool, DIRECTORY)) == 3
            )

        await until(consumed)
        dead = await read_topic(
            settings.kafka_bootstrap, settings.topic(dlq_of(ENROLLMENT_EVENTS)), expected=1
        )
        assert len(dead) == 1
        # Dead-lettering leaves no inbox claim: the failed transaction was rolled back.
        assert not await claimed(pool, LEDGER, failing.id)
        assert await claimed(pool, DIRECTORY, failing.id)

        listed = await tool(settings, capsys, "list", "--topic", ENROLLMENT_EVENTS)
        assert len(listed) == 2  # the header and the dead letter
        line = listed[1]
        assert LEDGER in line and failing.id in line and StaffRemoved.ce_type in line
        assert f"{settings.topic(ENROLLMENT_EVENTS)}:" in line
        assert MOBILE not in "\n".join(listed) and "138****5678" in line
        assert len(await tool(settings, capsys, "list", "--consumer", DIRECTORY)) == 1
        failed_at = datetime.fromtimestamp(dead[0].timestamp / 1000, UTC)
        hour = timedelta(hours=1)
        since, before = (failed_at + hour).isoformat(), (failed_at - hour).isoformat()
        assert len(await tool(settings, capsys, "list", "--since", since)) == 1
        assert len(await tool(settings, capsys, "list", "--until", before)) == 1
        assert await tool(settings, capsys, "list", "--since", before) == listed

        shown = "\n".join(await tool(settings, capsys, "show", failing.id))
        assert failing.id in shown and '"employer_id": "E2"' in shown
        assert MOBILE not in shown

        broken.clear()  # the cause has gone
        redriven = await tool(settings, capsys, "redrive", "--consumer", LEDGER)
        assert redriven[-1] == "redriven 1 dead letters as 1 records; 0 redriven before"

        async def applied_by_the_ledger():
            return await effects(pool, LEDGER) == ["E1", "E2", "E3"]

        await until(applied_by_the_ledger)
        again = await tool(settings, capsys, "redrive", "--consumer", LEDGER)
        assert again == ["redriven 0 dead letters as 0 records; 1 redriven before"]
        assert "redriven" in (await tool(settings, capsys, "list"))[1]
        assert len(await tool(settings, capsys, "list", "--pending")) == 1
        await asyncio.sleep(2.0)  # both groups have read whatever was republished by now
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    assert await effects(pool, LEDGER) == ["E1", "E2", "E3"]
    assert await effects(pool, DIRECTORY) == ["E1", "E2", "E3"]  # not applied twice
    source = await read_topic(
        settings.kafka_bootstrap, settings.topic(ENROLLMENT_EVENTS), expected=4
    )
    assert [record.headers[0][1].decode() for record in source].count(failing.id) == 2
    assert (
        dict(source[-1].headers)[dlq.REDRIVEN_FROM]
        .decode()
        .startswith(settings.topic(dlq_of(ENROLLMENT_EVENTS)))
    )
    assert not any(name.startswith("dlq_") for name, _ in source[-1].headers)


async def test_an_event_dead_lettered_by_two_consumers_is_republished_once(settings, capsys):
    envelope = removed("p-dlq2", 4)
    record = envelope.to_record()
    letters = [
        (
            record.key,
            record.value,
            [
                *record.headers,
                ("dlq_reason", b"not yet"),
                ("dlq_consumer", consumer.encode()),
                ("dlq_source_topic", settings.topic(ENROLLMENT_EVENTS).encode()),
                ("dlq_source_partition", b"2"),
                ("dlq_source_offset", b"0"),
                ("dlq_failed_at", b"2026-01-01T00:00:00+00:00"),
            ],
        )
        for consumer in (LEDGER, DIRECTORY)
    ]
    await broker.publish(settings, settings.topic(dlq_of(ENROLLMENT_EVENTS)), *letters)

    assert await dlq.run(["redrive"], settings) == 2  # refused without a filter or --all
    done = await dlq.redrive(settings, dlq.Selection(event_ids=(envelope.id,)))
    assert len(done.letters) == 2 and len(set(done.republished.values())) == 1
    (to,) = set(done.republished.values())
    assert to.startswith(f"{settings.topic(ENROLLMENT_EVENTS)}:2:")
    source = await read_topic(
        settings.kafka_bootstrap, settings.topic(ENROLLMENT_EVENTS), expected=1
    )
    assert len(source) == 1 and source[0].partition == 2
    assert (await dlq.redrive(settings, dlq.Selection(event_ids=(envelope.id,)))).already == 2
