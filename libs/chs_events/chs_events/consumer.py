"""The consumer runner: at-least-once delivery, exactly-once effects.

Each record is processed by the shared engine (``chs_events.processing``): its handler runs in
one unit of work together with the inbox claim (a duplicate is skipped), so what the handler
changes and the events it records commit together, once. The offset is committed only after
the effect (or the dead letter) is durable, at most every ``commit_interval`` seconds (a commit
is a broker round trip; a crash redelivers at most that much, which the inbox skips). Only
partitions still assigned are committed: after a rebalance, the new owner of a partition that
moved redelivers what was not committed.

A partition's batch commits in one transaction: one inbox statement claims every event of it,
each handler runs on the batch's connection (its own ``async with uow`` is a savepoint), and
events of types the consumer has no handler for are passed over without being parsed. When the
batch fails, the engine applies its events one at a time, each in its own unit of work.

An event whose handler raises ``Awaiting`` (its prerequisite has not arrived) is parked in the
service's database with its inbox claim (``chs_events.parking``); between batches the runner
applies the parked events of its partitions that were released, and dead-letters those past the
bound (``parking_bound_seconds``).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from chs_events import inbox
from chs_events.db import CONNECTION_LOST
from chs_events.envelope import Envelope
from chs_events.kafka import create_consumer, create_producer
from chs_events.parking import ParkingLot, releasers
from chs_events.processing import BatchFailed, Outcome, RecordProcessor
from chs_events.retry import Backoff
from chs_events.settings import PlatformSettings
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Envelope], Awaitable[None]]

# Not the event's fault: the service's own database is down or full; waited out, never
# dead-lettered. Any other error, an ``OSError`` of the handler's own included, is retried
# boundedly and then dead-lettered.
DATABASE_UNAVAILABLE = CONNECTION_LOST


@dataclass(frozen=True)
class Subscription:
    """What one consumer group of a service reads and how it handles each event type.
    ``unhurried``: a group whose effects may trail its topic by a tenth of a second (a read
    model of another service's data, most of whose events it passes over): the broker gathers
    its events for each fetch (``kafka.UNHURRIED_FETCH_BYTES``, ``UNHURRIED_FETCH_WAIT_MS``),
    so a busy topic comes to it in batches, not one poll and one transaction an event."""

    name: str
    topics: list[str]
    handlers: Mapping[str, Handler]
    unhurried: bool = False


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: Mapping[str, Handler],
        pool: asyncpg.Pool,
        settings: PlatformSettings,
        backoff: Backoff = Backoff(),
        commit_interval: float = 1.0,
        unhurried: bool = False,
    ) -> None:
        self.name = name
        self._unhurried = unhurried
        self._commit_interval = commit_interval
        self._topics = topics
        self._handlers = handlers
        self._pool = pool
        self._settings = settings
        self._backoff = backoff

    async def run(self, stop: asyncio.Event) -> None:
        consumer = create_consumer(
            self._settings, self.name, self._topics, unhurried=self._unhurried
        )
        dead_letters = create_producer(self._settings, f"{self.name}-dlq")
        await dead_letters.start()
        await consumer.start()

        async def publish_dead_letter(
            topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
        ) -> None:
            await dead_letters.send_and_wait(topic, key=key, value=value, headers=headers)

        parked = ParkingLot(
            self.name,
            self._pool,
            self._handlers,
            source=self._settings.ce_source,
            bound_seconds=self._settings.parking_bound_seconds,
            check_seconds=self._settings.parking_check_seconds,
        )
        processor = RecordProcessor(
            self.name,
            self._apply,
            publish_dead_letter,
            topic_prefix=self._settings.topic_prefix,
            backoff=self._backoff,
            waits_out=DATABASE_UNAVAILABLE,
            apply_all=self._apply_all,
            types=frozenset(self._handlers),
            parking=parked,
            releasers=releasers(self._handlers),
        )
        log.info("consumer started", extra={"consumer": self.name, "topics": self._topics})
        done: dict[TopicPartition, int] = {}  # offsets whose effects are durable, not committed
        next_commit = time.monotonic() + self._commit_interval
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                assigned = [(tp.topic, tp.partition) for tp in consumer.assignment()]
                await parked.tend(assigned, processor, stop)  # released ones before newer ones
                for partition, records in batches.items():
                    await processor.process_all(records, stop)
                    done[partition] = records[-1].offset + 1
                if done and time.monotonic() >= next_commit:
                    await self._commit(consumer, done)
                    next_commit = time.monotonic() + self._commit_interval
            if done:
                await self._commit(consumer, done)
        finally:
            await consumer.stop()
            await dead_letters.stop()

    async def _commit(self, consumer: AIOKafkaConsumer, done: dict[TopicPartition, int]) -> None:
        # A rebalance (a member joined or left) may have moved a partition of ``done`` to
        # another member: it is no longer ours to commit (aiokafka refuses the whole commit
        # with IllegalStateError), and its new owner redelivers from the last committed offset,
        # which the inbox skips. The partitions still ours are committed.
        assigned = consumer.assignment()
        offsets = {partition: offset for partition, offset in done.items() if partition in assigned}
        done.clear()
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError):  # a rebalance began meanwhile
            log.warning(
                "commit failed after a rebalance; the new owner redelivers",
                extra={"consumer": self.name},
            )

    async def _apply(self, envelope: Envelope) -> Outcome:
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return Outcome.IGNORED
        async with self._pool.acquire() as conn:
            uow = UnitOfWork.caused_by(conn, envelope, source=self._settings.ce_source)
            async with uow:
                if not await inbox.claim(conn, self.name, envelope):
                    return Outcome.DUPLICATE
                await handler(uow, envelope)
        return Outcome.APPLIED

    async def _apply_all(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        outcomes = []
        async with self._pool.acquire() as conn, conn.transaction():
            unseen = await inbox.claim_all(
                conn, self.name, [e for e in envelopes if e.type in self._handlers]
            )
            for index, envelope in enumerate(envelopes):
                handler = self._handlers.get(envelope.type)
                if handler is None:
                    outcomes.append(Outcome.IGNORED)
                elif (event_id := UUID(envelope.id)) not in unseen:  # before, or in this batch
                    outcomes.append(Outcome.DUPLICATE)
                else:
                    unseen.discard(event_id)
                    uow = UnitOfWork.caused_by(conn, envelope, source=self._settings.ce_source)
                    try:
                        await handler(uow, envelope)
                    except Exception as error:
                        raise BatchFailed(index, error) from error
                    outcomes.append(Outcome.APPLIED)
        return outcomes
