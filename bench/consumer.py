"""The consumer runner alone, on the real broker and database, against a raw Kafka passthrough of
the same number of messages in the same run.

    make bench        (or: python bench/consumer.py [--events 5000])

N events of one type on a topic of six partitions are consumed by a ``ConsumerRunner`` whose
handler writes one row (the effect) in the unit of work, with the inbox claim: first a partition's
batch per transaction (as the platform runs), then one event per transaction (the engine's
fallback, which is how every consumer ran before). The baseline is an aiokafka consume →
idempotent produce → commit per batch of as many messages. Printed as a table with the ratios.
"""

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import publish_records
from bench.pipeline import passthrough
from bench.relay import drop, fresh_database
from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.enrollment import StaffRemoved
from chs_events.processing import Outcome
from chs_events.settings import PlatformSettings
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork


class OneAtATime(ConsumerRunner):
    """The runner without its batches: one event per transaction."""

    async def _apply_all(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        raise RuntimeError("batches off")  # the engine applies each event alone


async def record_effect(uow: UnitOfWork, envelope: Envelope) -> None:
    await uow.conn.execute("insert into effects values ($1)", envelope.id)


async def publish(settings: PlatformSettings, count: int) -> None:
    records = [
        Envelope(
            StaffRemoved(
                person_id=f"p{n % 997:032x}",
                employer_id="E1",
                enrollment_id=f"e{n}",
                end_date=date(2026, 11, 30),
            ),
            source="/chs/bench",
        ).to_record()
        for n in range(count)
    ]
    await publish_records(settings, ENROLLMENT_EVENTS, records, "bench-consumer")


async def consume(
    runner_type: type[ConsumerRunner],
    settings: PlatformSettings,
    pool: asyncpg.Pool,
    name: str,
    count: int,
) -> float:
    """Seconds until the group has applied ``count`` events."""
    await pool.execute("truncate effects")
    stop = asyncio.Event()
    runner = runner_type(
        name=name,
        topics=[ENROLLMENT_EVENTS],
        handlers={StaffRemoved.ce_type: record_effect},
        pool=pool,
        settings=settings,
    )
    started = time.perf_counter()
    task = asyncio.create_task(runner.run(stop))
    while await pool.fetchval("select count(*) from effects") < count:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


async def main(events: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = PlatformSettings(topic_prefix=prefix, service_name="bench")
    await ensure_topics(settings.kafka_bootstrap, prefix, [BY_NAME[ENROLLMENT_EVENTS]])
    name, _, pool = await fresh_database(settings.database_url)
    try:
        await pool.execute("create table effects (event_id uuid primary key)")
        await publish(settings, events)
        batched = await consume(ConsumerRunner, settings, pool, "bench-batched", events)
        single = await consume(OneAtATime, settings, pool, "bench-single", events)
        raw = await passthrough(settings.kafka_bootstrap, events)
    finally:
        await drop(settings.database_url, name, pool)
    print(f"\n{'consumer of ' + str(events) + ' events':36} {'events/s':>9} {'/ raw':>7}")
    print("-" * 54)
    for label, seconds in (
        ("raw aiokafka passthrough", raw),
        ("runner, a batch per transaction", batched),
        ("runner, an event per transaction", single),
    ):
        print(f"{label:36} {events / seconds:9.0f} {raw / seconds:7.3f}")
    print(f"\n(broker {settings.kafka_bootstrap}; the handler writes one row with the inbox claim)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    arguments = parser.parse_args()
    os.environ.setdefault("CHS_LOG_LEVEL", "WARNING")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("chs_events").setLevel(logging.WARNING)
    asyncio.run(main(arguments.events))
