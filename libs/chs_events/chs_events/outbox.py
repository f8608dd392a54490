"""Transactional outbox: ``record`` inside the caller's transaction; ``OutboxRelay`` publishes.

Delivery is at-least-once and in order per person:
- a row is marked published only after the broker acknowledged it, so a relay killed between
  publish and mark republishes it (consumers dedupe by event id);
- one relay per database publishes at a time (a session advisory lock, released by PostgreSQL
  when its connection dies), others stand by, so rows go out in ``position`` order;
- callers lock the aggregate they change, so one person's rows commit in ``position`` order.
The relay wakes on ``NOTIFY`` (sent at commit by ``record``) and polls as a fallback.

It rides out faults instead of exiting. A broker or database outage (the connection refused or
lost, a delivery timed out) is retried with backoff from the first unpublished row; the standby
relays meanwhile keep waiting for the lock. A row the broker can never take (larger than the
producer's ``max_request_size`` or the topic's ``max.message.bytes``, an invalid topic name) is
quarantined with its reason (``quarantined_at``, ``quarantine_reason``, the
``chs_outbox_quarantined_total`` metric): it and the later rows of the same key (the same
person) stay unpublished until an operator clears it (``update outbox set quarantined_at =
null where position = …`` after fixing the cause); every other key keeps flowing.
"""

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    IllegalStateError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)

from chs_events import metrics
from chs_events.db import CONNECTION_LOST, connect
from chs_events.envelope import Envelope
from chs_events.retry import Backoff

log = logging.getLogger(__name__)

CHANNEL = "chs_outbox"
RELAY_LOCK = 0x43485302

# The row's own fault: publishing it again cannot succeed.
UNPUBLISHABLE = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
    UnsupportedForMessageFormatError,
)
# Not the row's fault: retried with backoff, for as long as it lasts.
OUTAGES = (*CONNECTION_LOST, KafkaError, TimeoutError)
# The idempotent producer's own state is broken (a broker that restarted lost its sequence
# numbers): retrying with it can never succeed; a new producer (a new producer id) can.
BROKEN_PRODUCER = (OutOfOrderSequenceNumber, ProducerFenced, IllegalStateError)
# Waits between attempts after an outage: 0.5 s doubling to 30 s; never gives up.
OUTAGE_BACKOFF = Backoff(max_attempts=0, base_delay=0.5, max_delay=30.0)


def row_of(envelope: Envelope) -> tuple[Any, ...]:
    """The event's outbox row: event_id, topic, key, headers, payload."""
    record_ = envelope.to_record()
    return (
        envelope.id,
        envelope.topic,
        envelope.key,
        [[name, value.decode()] for name, value in record_.headers],
        record_.value,
    )


async def record(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Write the event to the outbox in the caller's (open) transaction."""
    await conn.execute(  # one round trip: the row and the relay's wake-up (sent at commit)
        """with written as (
               insert into outbox (event_id, topic, key, headers, payload)
               values ($1, $2, $3, $4, $5) returning 1)
           select pg_notify($6, '') from written""",
        *row_of(envelope),
        CHANNEL,
    )


Change = tuple[str, Sequence[Any]]  # a statement and its parameters ($1…)
_PARAMETER = re.compile(r"\$(\d+)")


def _renumbered(sql: str, offset: int) -> str:
    """``sql`` with its parameters ``$n`` as ``$(n + offset)``."""
    return _PARAMETER.sub(lambda m: f"${int(m[1]) + offset}", sql)


async def record_with(
    conn: asyncpg.Connection, changes: Sequence[Change], envelopes: Sequence[Envelope]
) -> bool:
    """Changes and the events announcing them in one round trip, in the caller's (open)
    transaction. Each change is a data-modifying statement (``insert``, ``update``) with its
    own parameters ``$1``…; the first returns the rows it wrote (``returning 1``): when it
    wrote one, the events' outbox rows are written and the relay woken. False when it wrote
    none: no event is recorded (the other changes still run). The statements run as the parts
    of one statement, on one snapshot: none sees what another writes, so none may read a row
    another changes."""
    parts: list[str] = []
    values: list[Any] = []
    for n, (sql, args) in enumerate(changes):
        parts.append(f"change_{n} as ({_renumbered(sql, len(values))})")
        values.extend(args)
    start = len(values) + 1
    rows = " union all ".join(
        f"select ${n}::uuid, ${n + 1}::text, ${n + 2}::text, ${n + 3}::jsonb, ${n + 4}::bytea"
        for n in range(start, start + 5 * len(envelopes), 5)
    )
    notify = start + 5 * len(envelopes)
    return bool(
        await conn.fetchval(
            f"""with {", ".join(parts)},
               written as (
                   insert into outbox (event_id, topic, key, headers, payload)
                   select * from ({rows}) as events where exists (select from change_0)
                   returning 1)
               select exists (select from change_0)
                      and (select count(*) from (select pg_notify(${notify}, '') from written)
                           as notified) >= 0""",
            *values,
            *(value for envelope in envelopes for value in row_of(envelope)),
            CHANNEL,
        )
    )


async def record_all(conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
    """``record`` for many events in one statement, in their order (their positions follow
    it), with one wake-up of the relay."""
    if not envelopes:
        return
    records = [envelope.to_record() for envelope in envelopes]
    await conn.execute(
        """with written as (
               insert into outbox (event_id, topic, key, headers, payload)
               select e.event_id, e.topic, e.key, e.headers::jsonb, e.payload
               from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])
                    with ordinality as e(event_id, topic, key, headers, payload, n)
               order by e.n
               returning 1)
           select pg_notify($6, '') where exists (select from written)""",
        [envelope.id for envelope in envelopes],
        [envelope.topic for envelope in envelopes],
        [envelope.key for envelope in envelopes],
        [
            orjson.dumps([[name, value.decode()] for name, value in r.headers]).decode()
            for r in records
        ],
        [r.value for r in records],
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
        renew_producer: Callable[[], Awaitable[AIOKafkaProducer]] | None = None,
    ) -> None:
        self._dsn = dsn
        self._producer = producer
        self._service = service
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._renew_producer = renew_producer
        self._wakeup = asyncio.Event()
        self._next_purge = 0.0
        self._next_observation = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; outages are logged, counted and waited out."""
        outages = 0
        while not stop.is_set():
            try:
                await self._lead_and_publish(stop)
                return
            except OUTAGES as error:
                outages += 1
                delay = OUTAGE_BACKOFF.delay(outages)
                metrics.RELAY_OUTAGES.labels(self._service).inc()
                log.warning(
                    "outbox relay: %s (%s); retrying in %.1f s",
                    type(error).__name__,
                    error,
                    delay,
                    extra={"service": self._service},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if isinstance(error, BROKEN_PRODUCER) and self._renew_producer is not None:
                    await self._replace_producer()

    @property
    def producer(self) -> AIOKafkaProducer:
        """The producer in use (a broken one is replaced): the one the owner stops."""
        return self._producer

    async def _replace_producer(self) -> None:
        assert self._renew_producer is not None
        with contextlib.suppress(KafkaError):
            await self._producer.stop()
        self._producer = await self._renew_producer()
        log.info("outbox relay: a new producer", extra={"service": self._service})

    async def _lead_and_publish(self, stop: asyncio.Event) -> None:
        conn = await connect(self._dsn, application_name=f"{self._service}-outbox-relay")
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
            try:
                await conn.close(timeout=5)
            except (*CONNECTION_LOST, TimeoutError):
                conn.terminate()

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
                """select position, topic, key, headers, payload from outbox o
                   where published_at is null and quarantined_at is null and position > $2
                     and not exists (select from outbox q where q.quarantined_at is not null
                                     and q.key = o.key and q.position < o.position)
                   order by position limit $1""",
                self._batch_size,
                after,
            )
            sent = await self._send(conn, rows)
            if in_flight is not None:
                published += await self._mark_published(conn, *in_flight)
            if len(rows) < self._batch_size:  # the last batch of this wake-up
                return published + await self._mark_published(conn, rows, sent)
            in_flight, after = (rows, sent), rows[-1]["position"]

    async def _send(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[asyncio.Future[object] | None]:
        """Hand the rows to the producer; ``None`` for a row not sent: one the producer refuses
        (quarantined now) or one whose key has a row quarantined before it in this batch."""
        deliveries: list[asyncio.Future[object] | None] = []
        blocked: set[str] = set()
        for row in rows:
            if row["key"] in blocked:
                deliveries.append(None)
                continue
            try:
                deliveries.append(
                    await self._producer.send(
                        self._prefix + row["topic"],
                        key=row["key"].encode(),
                        value=row["payload"],
                        headers=[(name, value.encode()) for name, value in row["headers"]],
                    )
                )
            except UNPUBLISHABLE as error:
                await self._quarantine(conn, row, error)
                blocked.add(row["key"])
                deliveries.append(None)
        return deliveries

    async def _mark_published(
        self,
        conn: asyncpg.Connection,
        rows: list[asyncpg.Record],
        deliveries: list[asyncio.Future[object] | None],
    ) -> int:
        """Mark the acknowledged rows published and quarantine the refused ones; an outage
        (a delivery timed out, the broker gone) is raised after the others are marked."""
        outcomes = await asyncio.gather(
            *(d for d in deliveries if d is not None), return_exceptions=True
        )
        delivered, outage = [], None
        for row, outcome in zip(
            (row for row, d in zip(rows, deliveries, strict=True) if d is not None),
            outcomes,
            strict=True,
        ):
            if isinstance(outcome, UNPUBLISHABLE):
                await self._quarantine(conn, row, outcome)
            elif isinstance(outcome, BaseException):
                outage = outage or outcome
            else:
                delivered.append(row)
        if delivered:
            await conn.execute(
                "update outbox set published_at = now() where position = any($1)",
                [row["position"] for row in delivered],
            )
            published = Counter(
                (row["topic"], dict(row["headers"]).get("ce_type", "")) for row in delivered
            )
            for (topic, event_type), count in published.items():
                metrics.EVENTS_PUBLISHED.labels(topic, event_type).inc(count)
        if outage is not None:
            raise outage
        return len(delivered)

    async def _quarantine(
        self, conn: asyncpg.Connection, row: asyncpg.Record, error: BaseException
    ) -> None:
        reason = f"{type(error).__name__}: {error}"[:2000]
        await conn.execute(
            "update outbox set quarantined_at = now(), quarantine_reason = $2 where position = $1",
            row["position"],
            reason,
        )
        metrics.OUTBOX_QUARANTINED.labels(self._service, row["topic"]).inc()
        log.error(
            "outbox row quarantined: %s",
            reason,
            extra={"service": self._service, "position": row["position"], "topic": row["topic"]},
        )

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
