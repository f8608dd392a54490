"""Transactional outbox: ``record`` inside the caller's transaction; ``OutboxRelay`` publishes.

Delivery is at-least-once and in order per person:
- a row is marked published only after the broker acknowledged it, so a relay killed between
  publish and mark republishes it (consumers dedupe by event id);
- one relay per database publishes at a time (a session advisory lock, released by PostgreSQL
  when its connection dies), others stand by, so rows go out in ``position`` order;
- callers lock the aggregate they change, so one person's rows commit in ``position`` order.
The relay wakes on ``NOTIFY`` (sent at commit by ``record``) and polls as a fallback.
"""

import asyncio
import logging
import time
from collections import Counter
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer

from chs_events import metrics
from chs_events.db import connect
from chs_events.envelope import Envelope

log = logging.getLogger(__name__)

CHANNEL = "chs_outbox"
RELAY_LOCK = 0x43485302


async def record(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Write the event to the outbox in the caller's (open) transaction."""
    record_ = envelope.to_record()
    await conn.execute(  # one round trip: the row and the relay's wake-up (sent at commit)
        """with written as (
               insert into outbox (event_id, topic, key, headers, payload)
               values ($1, $2, $3, $4, $5) returning 1)
           select pg_notify($6, '') from written""",
        envelope.id,
        envelope.topic,
        envelope.key,
        [[name, value.decode()] for name, value in record_.headers],
        record_.value,
        CHANNEL,
    )


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        producer: AIOKafkaProducer,
        *,
        service: str,
        topic_prefix: str = "",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=1),
    ) -> None:
        self._dsn = dsn
        self._producer = producer
        self._service = service
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._wakeup = asyncio.Event()
        self._next_purge = 0.0
        self._next_observation = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        conn = await connect(self._dsn)
        try:
            await self._become_leader(conn, stop)
            if stop.is_set():
                return
            await conn.add_listener(CHANNEL, lambda *_: self._wakeup.set())
            log.info("outbox relay publishing", extra={"service": self._service})
            while not stop.is_set():
                self._wakeup.clear()
                await self.publish_pending(conn)
                if time.monotonic() >= self._next_observation:  # not on every wake-up
                    await self._observe_backlog(conn)
                await self._wait(stop)
            await self._observe_backlog(conn)
        finally:
            await conn.close()

    async def _become_leader(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await conn.fetchval("select pg_try_advisory_lock($1)", RELAY_LOCK):
                return
            log.debug("another relay is publishing; standing by")
            await self._wait(stop)

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(
            waiters, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in waiters:
            waiter.cancel()

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish every pending row, a batch at a time; the next batch is read and handed to
        the producer while the broker acknowledges the one before (a row is marked published
        only after its own acknowledgement). Returns how many were published."""
        published, in_flight, after = 0, None, 0
        while True:
            rows = await conn.fetch(
                """select position, topic, key, headers, payload from outbox
                   where published_at is null and position > $2 order by position limit $1""",
                self._batch_size,
                after,
            )
            sent = await self._send(rows)
            if in_flight is not None:
                published += await self._mark_published(conn, *in_flight)
            if len(rows) < self._batch_size:  # the last batch of this wake-up
                return published + await self._mark_published(conn, rows, sent)
            in_flight, after = (rows, sent), rows[-1]["position"]

    async def _send(self, rows: list[asyncpg.Record]) -> list[asyncio.Future[object]]:
        return [
            await self._producer.send(
                self._prefix + row["topic"],
                key=row["key"].encode(),
                value=row["payload"],
                headers=[(name, value.encode()) for name, value in row["headers"]],
            )
            for row in rows
        ]

    async def _mark_published(
        self,
        conn: asyncpg.Connection,
        rows: list[asyncpg.Record],
        deliveries: list[asyncio.Future[object]],
    ) -> int:
        if not rows:
            return 0
        await asyncio.gather(*deliveries)
        await conn.execute(
            "update outbox set published_at = now() where position = any($1)",
            [row["position"] for row in rows],
        )
        published = Counter((row["topic"], dict(row["headers"]).get("ce_type", "")) for row in rows)
        for (topic, event_type), count in published.items():
            metrics.EVENTS_PUBLISHED.labels(topic, event_type).inc(count)
        return len(rows)

    async def _observe_backlog(self, conn: asyncpg.Connection) -> None:
        self._next_observation = time.monotonic() + 1.0
        backlog, oldest_age = await conn.fetchrow(
            """select count(*), coalesce(extract(epoch from now() - min(created_at)), 0)
               from outbox where published_at is null"""
        )
        metrics.OUTBOX_BACKLOG.labels(self._service).set(backlog)
        metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(float(oldest_age))
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + 300
            await conn.execute(
                "delete from outbox where published_at < now() - $1::interval", self._retention
            )
