"""Notification's two per-SMS hops alone, on the real database (and broker), each against a
baseline of the same rows written in batches with plain asyncpg, in the same run.

    python bench/notification.py [--messages 3000]

- the dispatcher: N messages queued (their recipients in the directory) are claimed, rendered,
  sent through the local gateway (which records them) and marked sent, then their receipts
  applied (delivered), with every status change's event in the outbox: ``Dispatcher.run_once``
  in this process until all N are delivered. The baseline claims the same batches and writes
  the same rows (the gateway's, the messages' two updates, two outbox rows per message) with one
  statement each per batch, no rendering;
- the request consumer: N ``chs.notices.requests`` events (their recipients in the directory)
  consumed by the ``notification-requests`` runner in this process until N messages are queued.
  The baseline consumes the same records with a plain aiokafka consumer and writes the inbox
  claims and the messages of each batch with one statement each.

CPU is ``time.process_time`` of this process (the database and the broker run elsewhere), per
message; each database and topic prefix is new for the run. Printed as a table with the ratios.
"""

import argparse
import asyncio
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relay import drop
from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.db import open_service_database
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_events.kafka import create_producer
from chs_events.topics import BY_NAME, NOTICE_REQUESTS
from chs_notification.consumers import REQUESTS_CONSUMER, REQUESTS_HANDLERS, REQUESTS_TOPICS
from chs_notification.dispatch import Dispatcher
from chs_notification.local_gateway import LocalGateway
from chs_notification.model import message_id_for
from chs_notification.settings import NotificationSettings

TEMPLATE = "account.credited"  # the pipeline's notice (bench/pipeline.py)
PARAMS = {
    "posted_on": "2026年11月30日",
    "amount_yuan": "123.45",
    "period_text": "2026年11月",
    "balance_yuan": "1,234.56",
}
FINAL = "status in ('delivered', 'failed', 'undeliverable')"
FAKE_PAYLOAD = orjson.dumps({"status": "sent", "padding": "x" * 300})


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu: float


async def measured(run: Callable[[], Awaitable[None]]) -> Measured:
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    return Measured(time.perf_counter() - wall, time.process_time() - cpu)


def person(n: int) -> str:
    return f"bench{n:027d}"


async def seed_directory(pool: asyncpg.Pool, count: int) -> None:
    rng = random.Random(7)
    await pool.execute(
        """insert into contacts (person_id, name, mobile, birth_date)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::date[])""",
        [person(n) for n in range(count)],
        ["张三"] * count,
        [f"{rng.choice(('1385321', '1391234'))}{n % 10000:04d}" for n in range(count)],
        [date(1940 + n % 60, 1 + n % 12, 1) for n in range(count)],
    )


async def seed_queue(pool: asyncpg.Pool, count: int) -> None:
    notice_ids = [f"bench-{uuid.uuid4().hex}" for _ in range(count)]
    await pool.execute(
        """insert into messages (message_id, notice_id, person_id, template_id, category,
                                 params, request_event_id, correlation_id)
           select m, n, p, $4, 'business_result', $5::jsonb, gen_random_uuid(), 'bench'
           from unnest($1::uuid[], $2::text[], $3::text[]) as q(m, n, p)""",
        [message_id_for(n) for n in notice_ids],
        notice_ids,
        [person(n) for n in range(count)],
        TEMPLATE,
        PARAMS,
    )


async def reset(pool: asyncpg.Pool) -> None:
    await pool.execute("truncate messages, local_gateway_sms, outbox, inbox")


async def count_where(pool: asyncpg.Pool, where: str) -> int:
    return int(await pool.fetchval(f"select count(*) from messages where {where}"))


# ------------------------------------------------------------------------------- dispatcher


async def dispatcher_run(pool: asyncpg.Pool, settings: NotificationSettings, count: int) -> None:
    dispatcher = Dispatcher(pool, LocalGateway(pool, rng=random.Random(1)), settings)
    while await count_where(pool, FINAL) < count:
        await dispatcher.run_once()


async def dispatcher_baseline(pool: asyncpg.Pool, batch: int, count: int) -> None:
    """The rows the dispatcher writes, one statement per kind per batch, nothing rendered."""
    text = "【中国医疗保障】" + "x" * 60
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """select message_id, person_id from messages
                   where status = 'queued' and next_attempt_at <= now()
                   order by next_attempt_at, created_at limit $1 for update skip locked""",
                batch,
            )
            if not rows:
                break
            ids = [row["message_id"] for row in rows]
            await conn.execute(
                """select * from contacts where person_id = any($1::text[])""",
                [row["person_id"] for row in rows],
            )
            await conn.execute(
                """insert into local_gateway_sms (message_id, provider_message_id, sender,
                                                  mobile, text)
                   select m, 'LG' || m, '10639239', '13853212345', $2
                   from unnest($1::uuid[]) as m""",
                ids,
                text,
            )
            await conn.execute(
                """update messages set status = 'sent', attempts = attempts + 1, text = $2,
                       sender = '10639239', sent_at = now()
                   where message_id = any($1::uuid[])""",
                ids,
                text,
            )
            await outbox_rows(conn, [str(row["person_id"]) for row in rows])
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """update local_gateway_sms set receipt_status = 'delivered',
                       receipt_at = now(), receipt_acknowledged_at = now()
                   where message_id in (select message_id from local_gateway_sms
                                        where receipt_status is null limit 500)
                   returning message_id""",
            )
            if not rows:
                break
            updated = await conn.fetch(
                """update messages set status = 'delivered', delivered_at = now(),
                       final_at = now()
                   where message_id = any($1::uuid[]) returning person_id""",
                [row["message_id"] for row in rows],
            )
            await outbox_rows(conn, [row["person_id"] for row in updated])


async def outbox_rows(conn: asyncpg.Connection, keys: list[str]) -> None:
    await conn.execute(
        """insert into outbox (event_id, topic, key, headers, payload)
           select gen_random_uuid(), 'chs.notices.status', k, '[]'::jsonb, $2
           from unnest($1::text[]) as k""",
        keys,
        FAKE_PAYLOAD,
    )


# -------------------------------------------------------------------------- request consumer


async def publish_requests(settings: NotificationSettings, count: int) -> None:
    producer = create_producer(settings, "bench-notification")
    await producer.start()
    try:
        records = [
            Envelope(
                NoticeRequested(
                    person_id=person(n),
                    notice_id=f"bench-{uuid.uuid4().hex}",
                    template_id=TEMPLATE,
                    params=PARAMS,
                    category="business_result",
                ),
                source="/chs/progress-notices",
            ).to_record()
            for n in range(count)
        ]
        topic = settings.topic(NOTICE_REQUESTS)
        deliveries = [
            await producer.send(topic, key=r.key, value=r.value, headers=r.headers) for r in records
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def requests_run(pool: asyncpg.Pool, settings: NotificationSettings, count: int) -> None:
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=REQUESTS_CONSUMER,
        topics=REQUESTS_TOPICS,
        handlers=REQUESTS_HANDLERS,
        pool=pool,
        settings=settings,
    )
    task = asyncio.create_task(runner.run(stop))
    while await count_where(pool, "true") < count:
        await asyncio.sleep(0.02)
    stop.set()
    await task


async def requests_baseline(pool: asyncpg.Pool, settings: NotificationSettings, count: int) -> None:
    """The same records through a plain consumer: per partition's batch, the inbox claims and
    the messages in one statement each."""
    consumer = AIOKafkaConsumer(
        settings.topic(NOTICE_REQUESTS),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.group("bench-baseline"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=1000,
    )
    await consumer.start()
    try:
        queued = 0
        while queued < count:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                ids, data = [], []
                for record in records:
                    headers = dict(record.headers)
                    ids.append(uuid.UUID(headers["ce_id"].decode()))
                    data.append(orjson.loads(record.value or b"{}"))
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        """insert into inbox (consumer, event_id, event_type)
                           select 'bench-baseline', e, 'chs.notices.requested.v1'
                           from unnest($1::uuid[]) as e on conflict do nothing""",
                        ids,
                    )
                    await conn.execute(
                        """insert into messages (message_id, notice_id, person_id, template_id,
                               category, params, request_event_id)
                           select m, n, p, t, 'business_result', '{}'::jsonb, e
                           from unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
                                       $5::uuid[]) as q(m, n, p, t, e)
                           on conflict (notice_id) do nothing""",
                        [message_id_for(d["notice_id"]) for d in data],
                        [d["notice_id"] for d in data],
                        [d["person_id"] for d in data],
                        [d["template_id"] for d in data],
                        ids,
                    )
                queued += len(records)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()


# ------------------------------------------------------------------------------------ main


async def main(count: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    database = f"bench_notification_{uuid.uuid4().hex[:8]}"
    settings = NotificationSettings(
        topic_prefix=prefix, database_name=database, dispatch_poll_interval=0.2
    )
    await ensure_topics(settings.kafka_bootstrap, prefix, [BY_NAME[NOTICE_REQUESTS]])
    pool = await open_service_database(settings.database_url, database, "chs_notification")
    results: list[tuple[str, Measured, Measured]] = []
    try:
        await seed_directory(pool, count)

        await seed_queue(pool, count)
        dispatched = await measured(lambda: dispatcher_run(pool, settings, count))
        assert await count_where(pool, "status = 'delivered'") == count, "every one delivered"
        await reset(pool)
        await seed_queue(pool, count)
        batch = settings.dispatch_batch_size
        dispatch_base = await measured(lambda: dispatcher_baseline(pool, batch, count))
        assert await count_where(pool, "status = 'delivered'") == count, "all sent"
        results.append(
            (f"dispatcher (batch {batch}), queued → delivered", dispatched, dispatch_base)
        )

        await reset(pool)
        await publish_requests(settings, count)
        requested = await measured(lambda: requests_run(pool, settings, count))
        await reset(pool)
        request_base = await measured(lambda: requests_baseline(pool, settings, count))
        results.append(("request consumer, notice → queued", requested, request_base))
    finally:
        await drop(settings.database_url, database, pool)

    print(
        f"\n{str(count) + ' messages':44} {'msgs/s':>8} {'base/s':>8} {'CPU ms':>7} "
        f"{'base ms':>7} {'CPU ×base':>9}"
    )
    print("-" * 89)
    for label, run, base in results:
        print(
            f"{label:44} {count / run.seconds:8.0f} {count / base.seconds:8.0f} "
            f"{run.cpu * 1000 / count:7.3f} {base.cpu * 1000 / count:7.3f} "
            f"{run.cpu / base.cpu:9.2f}"
        )
    print(
        "\n(CPU: time.process_time of this process per message; base: the same rows written "
        "in batches with plain asyncpg, same run)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    arguments = parser.parse_args()
    os.environ.setdefault("CHS_LOG_LEVEL", "WARNING")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("chs_events").setLevel(logging.WARNING)
    logging.getLogger("chs_notification").setLevel(logging.WARNING)
    asyncio.run(main(arguments.messages))
