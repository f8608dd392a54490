"""Parking: an event that came before its prerequisite waits in the consumer's own database.

Topics are not ordered against each other, and a service's consumers are not ordered against
each other either: maternity's settlements consumer may read a delivery before its enrollment
consumer has read the enrollment; notification may read a notice before the recipient's contact.
What is owed must not depend on which was faster. So a handler whose prerequisite has not arrived
raises ``Awaiting(kind, key, reason)`` (``chs_events.processing``), and the consumer runner, in
one transaction, claims the event in its inbox and keeps the record as consumed in
``parked_events`` (per consumer, with the prerequisite, the reason and ``parked_at``). No retry,
no dead letter: the stream moves on. A newer event of the same key (the person) waits behind it,
parked too, so that one person's events still apply in order (a second notice does not overtake
the first); but not one whose handler brings prerequisites (``releases``): the registration a
same-consumer event waits for must not wait behind it.

The handler that applies the prerequisite calls ``release(conn, kind, key)`` in its own unit of
work: when it commits, the events parked for that key are released. The runner that owns their
partition applies them right after, between its batches (``ParkingLot.tend``), in order of
arrival with the events parked behind them, each in a unit of work of its own with its handler
and the deletion of its row: once.
Not inside the releasing transaction: the releaser is often another consumer (maternity's
enrollment read model releases its settlements consumer's events), perhaps in another process,
with neither the handlers nor the partition; the owner applies them serialized with its own
stream, and a failure there is retried or dead-lettered as the engine does, not charged to the
event that released them. An event that still lacks its prerequisite when applied (an
enrollment that does not cover the day) is parked again, keeping its place and ``parked_at``.

A release can be missed in one narrow window: committed after the handler looked and before the
parked row was committed. Every parked event is therefore also tried again on its own, after
``FIRST_RECHECK`` seconds and then at doubling intervals up to ``LAST_RECHECK``: in that window
late by seconds, never lost.

An event still parked after ``parking_bound_seconds`` (``PlatformSettings``; 7 days unless a
service says otherwise) goes, unchanged, to its topic's ``.dlq`` with the reason
(``ParkedTooLong``), and its inbox claim is removed: redriven once the cause is gone, it is
applied like any dead letter. The runner looks every ``parking_check_seconds``, and sets the
gauge ``chs_parked_events`` then.
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from chs_events import inbox, metrics
from chs_events.envelope import Envelope
from chs_events.masking import redact
from chs_events.processing import Awaiting, Outcome, Record, RecordProcessor, prerequisite
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

FIRST_RECHECK = 5.0  # seconds after parking, then doubled each time
LAST_RECHECK = 3600.0
BATCH = 500  # parked events taken per look

Handler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
H = TypeVar("H", bound=Handler)
_RELEASES = "_chs_releases"


def releases(handler: H) -> H:
    """Marks a handler that brings prerequisites (it calls ``release``): its event is applied
    even when its key has events parked, which may be waiting for it."""
    setattr(handler, _RELEASES, True)
    return handler


def releasers(handlers: Mapping[str, Handler]) -> frozenset[str]:
    """The event types whose handler is marked with ``releases``."""
    return frozenset(t for t, handler in handlers.items() if getattr(handler, _RELEASES, False))


class ParkedTooLong(Exception):
    """The prerequisite of a parked event did not arrive within the bound."""


async def release(conn: asyncpg.Connection, kind: str, key: str) -> int:
    """In the unit of work that applies the prerequisite (``kind``, ``key``): the events parked
    for it are applied once it commits. Returns how many it released."""
    status = await conn.execute(
        "update parked_events set released_at = now() where awaiting = $1 and released_at is null",
        prerequisite(kind, key),
    )
    return int(status.rsplit(" ", 1)[-1])


BEHIND = "behind an earlier parked event of its key"


async def park(
    conn: asyncpg.Connection,
    consumer: str,
    record: Record,
    envelope: Envelope,
    awaiting: Awaiting | None,
) -> None:
    """Keep the record as consumed, awaiting its prerequisite or (``None``) behind the parked
    events of its key; parked again, it keeps its place and ``parked_at``, waits for what it
    now awaits and is tried again later than the last time."""
    headers = list(record.headers or ())
    await conn.execute(
        """insert into parked_events (consumer, event_id, event_type, record_key, awaiting,
               reason, topic, source_partition, source_offset, value, header_names,
               header_values, next_check_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                   now() + make_interval(secs => $13))
           on conflict (consumer, event_id) do update set
               awaiting = excluded.awaiting, reason = excluded.reason, released_at = null,
               checks = parked_events.checks + 1,
               next_check_at = now() + make_interval(
                   secs => least($14, $13 * 2 ^ (parked_events.checks + 1)))""",
        consumer,
        envelope.id,
        envelope.type,
        envelope.key,
        None if awaiting is None else awaiting.prerequisite,
        BEHIND if awaiting is None else str(awaiting)[:2000],
        record.topic,
        record.partition,
        record.offset,
        record.value or b"",
        [name for name, _ in headers],
        [value for _, value in headers],
        FIRST_RECHECK,
        LAST_RECHECK,
    )


@dataclass
class ParkedRecord:
    """A parked row as the record it was consumed as (``processing.Record``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> "ParkedRecord":
        return cls(
            row["topic"],
            row["source_partition"],
            row["source_offset"],
            row["record_key"].encode(),
            row["value"],
            list(zip(row["header_names"], row["header_values"], strict=True)),
        )


_ASSIGNED = "(topic, source_partition) in (select * from unnest($2::text[], $3::int[]))"


class ParkingLot:
    """One consumer's parked events: ``park`` for the engine (``processing.Parking``), ``tend``
    for the runner between its batches, on the partitions it owns."""

    def __init__(
        self,
        consumer: str,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Handler],
        *,
        source: str,
        bound_seconds: float,
        check_seconds: float,
    ) -> None:
        self.consumer = consumer
        self._pool = pool
        self._handlers = handlers
        self._source = source
        self._bound = bound_seconds
        self._check_every = check_seconds
        self._next_check = 0.0  # monotonic; the first look checks
        self._again = _Reparking(self)
        # The partitions that had nothing parked at the last check, while nothing was parked
        # since: no statement on the hot path of a consumer with nothing parked. (Only the
        # partition's owner parks; a previous owner's late park is found at the next check.)
        self._empty: frozenset[tuple[str, int]] | None = None
        self._assigned: frozenset[tuple[str, int]] = frozenset()

    async def parked_keys(self, keys: Collection[bytes]) -> set[bytes]:
        if self._empty is not None and self._empty == self._assigned:
            return set()
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "select distinct record_key from parked_events "
                "where consumer = $1 and record_key = any($2::text[])",
                self.consumer,
                [key.decode(errors="replace") for key in keys],
            )
        return {row["record_key"].encode() for row in rows}

    async def park(self, record: Record, envelope: Envelope, awaiting: Awaiting | None) -> Outcome:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, self.consumer, envelope):
                return Outcome.DUPLICATE  # applied, or parked, before
            await park(conn, self.consumer, record, envelope, awaiting)
        self._empty = None
        return Outcome.PARKED

    async def tend(
        self,
        assigned: Collection[tuple[str, int]],
        engine: RecordProcessor,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Apply the released (and the due) parked events of the ``assigned`` partitions, and
        every ``check_seconds`` dead-letter those past the bound; ``engine`` is the runner's
        (its dead letters, backoff and outages). Waits out an outage of the database as the
        engine does."""
        self._assigned = frozenset(assigned)
        if not assigned:
            return
        try:
            await self._tend(assigned, engine, stop)
        except engine.waits_out as error:  # the next look tries again
            log.warning(
                "parked events not looked at; database unavailable",
                extra={"consumer": self.consumer, "error": repr(error)},
            )

    async def _tend(
        self,
        assigned: Collection[tuple[str, int]],
        engine: RecordProcessor,
        stop: asyncio.Event | None,
    ) -> None:
        topics = [topic for topic, _ in assigned]
        partitions = [partition for _, partition in assigned]
        if time.monotonic() >= self._next_check:
            await self._dead_letter_expired(topics, partitions, engine, stop)
            self._next_check = time.monotonic() + self._check_every
        if self._empty == self._assigned:
            return
        async with self._pool.acquire() as conn:
            keys = await conn.fetch(
                f"""select record_key from parked_events
                    where consumer = $1 and {_ASSIGNED}
                      and (released_at is not null or next_check_at <= now())
                    group by record_key order by min(position) limit {BATCH}""",
                self.consumer,
                topics,
                partitions,
            )
        if not keys:
            return
        again = dataclasses.replace(
            engine, apply=self._apply_parked, apply_all=None, parking=self._again, types=None
        )
        for key in keys:
            await self._apply_in_order(key["record_key"], again, stop)

    async def _apply_in_order(
        self, key: str, again: RecordProcessor, stop: asyncio.Event | None
    ) -> None:
        """The key's parked events from the first, as long as each is released (or due, or
        only waited behind the ones before)."""
        while True:
            async with self._pool.acquire() as conn:
                head = await conn.fetchrow(
                    """select *, released_at is not null or awaiting is null
                                 or next_check_at <= now() as ready
                       from parked_events where consumer = $1 and record_key = $2
                       order by position limit 1""",
                    self.consumer,
                    key,
                )
            if head is None or not head["ready"]:
                return
            await again.process_all([ParkedRecord.of(head)], stop)
            if await self._settle(head) == "parked":
                return

    async def _apply_parked(self, envelope: Envelope) -> Outcome:
        handler = self._handlers.get(envelope.type)
        async with self._pool.acquire() as conn:
            uow = UnitOfWork.caused_by(conn, envelope, source=self._source)
            async with uow:
                # The row locked and gone with the effect: applied once. Kept when the handler
                # fails (rolled back): parked again, retried or dead-lettered by the engine.
                found = await conn.fetchval(
                    "delete from parked_events where consumer = $1 and event_id = $2 "
                    "returning true",
                    self.consumer,
                    envelope.id,
                )
                if not found:
                    return Outcome.DUPLICATE
                if handler is None:  # no longer handled since it was parked
                    return Outcome.IGNORED
                await handler(uow, envelope)
        return Outcome.APPLIED

    async def _settle(self, row: asyncpg.Record) -> str:
        """After a parked event was tried: gone (applied), parked again (``checks`` moved on),
        or dead-lettered by the engine (the row as it was: deleted now, with its inbox claim,
        so that the dead letter redriven is applied like any other)."""
        async with self._pool.acquire() as conn:
            status = await conn.fetchval(
                """with gone as (
                       delete from parked_events
                       where consumer = $1 and event_id = $2 and checks = $3
                       returning event_id),
                   unclaimed as (
                       delete from inbox
                       where consumer = $1 and event_id in (select event_id from gone))
                   select case when exists (select from gone) then 'dead_lettered'
                               when exists (select from parked_events
                                            where consumer = $1 and event_id = $2) then 'parked'
                               else 'applied' end""",
                self.consumer,
                row["event_id"],
                row["checks"],
            )
        if status != "parked":
            metrics.EVENTS_UNPARKED.labels(self.consumer, status).inc()
        return str(status)

    async def _dead_letter_expired(
        self,
        topics: list[str],
        partitions: list[int],
        engine: RecordProcessor,
        stop: asyncio.Event | None,
    ) -> None:
        async with self._pool.acquire() as conn:
            count = await conn.fetchval(
                f"select count(*) from parked_events where consumer = $1 and {_ASSIGNED}",
                self.consumer,
                topics,
                partitions,
            )
            expired = await conn.fetch(
                f"""select * from parked_events
                    where consumer = $1 and {_ASSIGNED}
                      and parked_at < now() - make_interval(secs => $4)
                    order by position limit {BATCH}""",
                self.consumer,
                topics,
                partitions,
                self._bound,
            )
        metrics.PARKED_EVENTS.labels(self.consumer).set(count - len(expired))
        if count == 0:
            self._empty = frozenset(zip(topics, partitions, strict=True))
        for row in expired:
            kind = "behind" if row["awaiting"] is None else row["awaiting"].split(":", 1)[0]
            waited = "" if row["awaiting"] is None else f"awaiting {kind} "
            error = ParkedTooLong(
                f"parked {waited}for more than {duration(self._bound)}: {row['reason']}"
            )
            await engine.dead_letter(
                ParkedRecord.of(row), error, attempts=row["checks"] + 1, stop=stop
            )
            async with self._pool.acquire() as conn:
                await conn.execute(
                    """with gone as (
                           delete from parked_events where consumer = $1 and event_id = $2
                           returning event_id)
                       delete from inbox
                       where consumer = $1 and event_id in (select event_id from gone)""",
                    self.consumer,
                    row["event_id"],
                )
            metrics.EVENTS_UNPARKED.labels(self.consumer, "dead_lettered").inc()
            log.warning(
                "parked event dead-lettered past the bound",
                extra={
                    "consumer": self.consumer,
                    "event_id": str(row["event_id"]),
                    "type": row["event_type"],
                    "awaiting": kind,
                    "reason": redact(row["reason"]),
                },
            )


class _Reparking:
    """The engine's ``Parking`` while a parked event is tried again: its row is updated (its
    inbox claim was made when it was first parked)."""

    def __init__(self, lot: ParkingLot) -> None:
        self._lot = lot

    async def parked_keys(self, keys: Collection[bytes]) -> set[bytes]:
        return set()  # the one tried again is the first of its key

    async def park(self, record: Record, envelope: Envelope, awaiting: Awaiting | None) -> Outcome:
        async with self._lot._pool.acquire() as conn:
            await park(conn, self._lot.consumer, record, envelope, awaiting)
        return Outcome.PARKED


def duration(seconds: float) -> str:
    """``7 d``, ``12 h``, ``90 s``: a bound as a reason tells it."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
