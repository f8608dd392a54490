"""Outbox relay against a plain idempotent producer, on the real broker and database.

    make bench        (or: python bench/relay.py [--events 5000])

Throughput: a backlog of N recorded events drained by the relay, against the same N records
sent by a producer directly (the irreducible part of the relay's job). Latency: one event at a
time, commit → published by the relay (woken by NOTIFY), against send → acknowledged by the
broker. Printed as a table with the ratio relay / baseline.
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from importlib.resources import files

import asyncpg

from chs_events.admin import ensure_topics
from chs_events.db import create_pool, ensure_database, migrate
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContactChanged
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay, record
from chs_events.settings import PlatformSettings, dsn_for_database
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS


def envelopes(count: int) -> list[Envelope]:
    return [
        Envelope(ContactChanged(person_id=f"p{n % 500:032x}"), source="/chs/bench")
        for n in range(count)
    ]


async def until_published(pool: asyncpg.Pool, count: int) -> None:
    while await pool.fetchval("select count(*) from outbox where published_at is not null") < count:
        await asyncio.sleep(0.01)


async def relay_throughput(settings, dsn, pool, count: int) -> float:
    backlog = envelopes(count)
    async with pool.acquire() as conn:
        for batch_start in range(0, count, 500):
            async with conn.transaction():
                for envelope in backlog[batch_start : batch_start + 500]:
                    await record(conn, envelope)
    producer = create_producer(settings, "bench-relay")
    await producer.start()
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(
        OutboxRelay(dsn, producer, service="bench", topic_prefix=settings.topic_prefix).run(stop)
    )
    await until_published(pool, count)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await producer.stop()
    return elapsed


async def producer_throughput(settings, count: int) -> float:
    records = [e.to_record() for e in envelopes(count)]
    producer = create_producer(settings, "bench-producer")
    await producer.start()
    started = time.perf_counter()
    for batch_start in range(0, count, 500):
        deliveries = [
            await producer.send(
                settings.topic(ENROLLMENT_EVENTS), key=r.key, value=r.value, headers=r.headers
            )
            for r in records[batch_start : batch_start + 500]
        ]
        await asyncio.gather(*deliveries)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return elapsed


async def relay_latency(settings, dsn, pool, count: int) -> list[float]:
    producer = create_producer(settings, "bench-relay-latency")
    await producer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(
        OutboxRelay(dsn, producer, service="bench", topic_prefix=settings.topic_prefix).run(stop)
    )
    await asyncio.sleep(0.5)
    latencies = []
    async with pool.acquire() as conn:
        for envelope in envelopes(count):
            async with conn.transaction():
                await record(conn, envelope)
            committed = time.perf_counter()
            while not await conn.fetchval(
                "select published_at is not null from outbox where event_id = $1", envelope.id
            ):
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - committed)
    stop.set()
    await task
    await producer.stop()
    return latencies


async def producer_latency(settings, count: int) -> list[float]:
    producer = create_producer(settings, "bench-producer-latency")
    await producer.start()
    latencies = []
    for envelope in envelopes(count):
        r = envelope.to_record()
        started = time.perf_counter()
        await producer.send_and_wait(
            settings.topic(ENROLLMENT_EVENTS), key=r.key, value=r.value, headers=r.headers
        )
        latencies.append(time.perf_counter() - started)
    await producer.stop()
    return latencies


async def fresh_database(server_url: str) -> tuple[str, str, asyncpg.Pool]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    await ensure_database(server_url, name)
    dsn = dsn_for_database(server_url, name)
    pool = await create_pool(dsn)
    async with pool.acquire() as conn:
        await migrate(conn, [("chs_events", files("chs_events") / "migrations")])
    return name, dsn, pool


async def drop(server_url: str, name: str, pool: asyncpg.Pool) -> None:
    await pool.close()
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'drop database "{name}" with (force)')
    await conn.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


async def main(events: int, latency_events: int) -> None:
    settings = PlatformSettings(topic_prefix=f"bench{uuid.uuid4().hex[:6]}.", service_name="bench")
    await ensure_topics(
        settings.kafka_bootstrap, settings.topic_prefix, [BY_NAME[ENROLLMENT_EVENTS]]
    )
    name, dsn, pool = await fresh_database(settings.database_url)
    try:
        relay_s = await relay_throughput(settings, dsn, pool, events)
        producer_s = await producer_throughput(settings, events)
        await pool.execute("truncate outbox")
        relay_lat = await relay_latency(settings, dsn, pool, latency_events)
        producer_lat = await producer_latency(settings, latency_events)
    finally:
        await drop(settings.database_url, name, pool)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[18]

    print(f"{'measure':38} {'relay':>10} {'producer':>10} {'ratio':>7}")
    print("-" * 68)
    print(
        f"{f'throughput, {events} events (events/s)':38} {events / relay_s:10.0f} "
        f"{events / producer_s:10.0f} {producer_s / relay_s:7.2f}"
    )
    for label, pick in (("latency p50 (ms)", statistics.median), ("latency p95 (ms)", p95)):
        relay_value, producer_value = pick(relay_lat), pick(producer_lat)
        print(
            f"{label:38} {ms(relay_value):>10} {ms(producer_value):>10} "
            f"{relay_value / producer_value:7.2f}"
        )
    print(
        f"\n(broker {settings.kafka_bootstrap}; relay latency = commit → row marked published; "
        f"producer latency = send → acknowledged)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--latency-events", type=int, default=200)
    arguments = parser.parse_args()
    os.environ.setdefault("CHS_LOG_LEVEL", "WARNING")
    asyncio.run(main(arguments.events, arguments.latency_events))
