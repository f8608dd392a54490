"""The consumer runner: at-least-once delivery, exactly-once effects.

For each record, in partition order: parse and validate the envelope (invalid → DLQ at once),
run the handler in one database transaction together with the inbox claim (a duplicate is
skipped), retry a failing handler with backoff a bounded number of times and then dead-letter
it, and commit the offset only after the effect (or the dead letter) is durable. An outage of
the service's own database is not the event's fault: it is retried until the database is back,
so the partition waits rather than dead-lettering everything.
"""
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.errors import CommitFailedError

from chs_events import inbox, metrics
from chs_events.deadletter import dead_letter_headers
from chs_events.envelope import Envelope, InvalidEnvelope
from chs_events.kafka import create_consumer, create_producer
from chs_events.settings import PlatformSettings
from chs_events.topics import dlq_of

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

INFRASTRUCTURE_ERRORS = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                         asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
                         asyncpg.OperatorInterventionError)


class PermanentError(Exception):
    """The event can never be processed as it is: dead-letter it without retrying."""


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay)


@dataclass(frozen=True)
class Subscription:
    """What one consumer group of a service reads and how it handles each event type."""

    name: str
    topics: list[str]
    handlers: Mapping[str, Handler]


class ConsumerRunner:
    def __init__(self, *, name: str, topics: list[str], handlers: Mapping[str, Handler],
                 pool: asyncpg.Pool, settings: PlatformSettings, retry: Retry = Retry()) -> None:
        self.name = name
        self._topics = topics
        self._handlers = handlers
        self._pool = pool
        self._settings = settings
        self._retry = retry

    async def run(self, stop: asyncio.Event) -> None:
        consumer = create_consumer(self._settings, self.name, self._topics)
        self._dead_letters = create_producer(self._settings, f"{self.name}-dlq")
        await self._dead_letters.start()
        await consumer.start()
        log.info("consumer started", extra={"consumer": self.name, "topics": self._topics})
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for partition, records in batches.items():
                    for record in records:
                        await self._process(record, stop)
                    try:
                        await consumer.commit({partition: records[-1].offset + 1})
                    except CommitFailedError:
                        log.warning("commit failed after a rebalance; the new owner redelivers",
                                    extra={"consumer": self.name})
        finally:
            await consumer.stop()
            await self._dead_letters.stop()

    async def _process(self, record: ConsumerRecord, stop: asyncio.Event) -> None:
        topic = record.topic.removeprefix(self._settings.topic_prefix)
        try:
            envelope = Envelope.from_record(record.key, record.value, record.headers)
        except InvalidEnvelope as error:
            await self._dead_letter(record, topic, error, attempts=0)
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return  # a valid event this consumer has no interest in
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                applied = await self._apply(handler, envelope)
            except INFRASTRUCTURE_ERRORS as error:
                attempt -= 1
                log.warning("database unavailable; retrying",
                            extra={"consumer": self.name, "error": repr(error)})
                if stop.is_set():
                    raise
                await asyncio.sleep(self._retry.max_delay)
                continue
            except PermanentError as error:
                await self._dead_letter(record, topic, error, attempts=attempt)
                return
            except Exception as error:  # noqa: BLE001 - any handler failure is retried
                metrics.EVENTS_FAILED.labels(self.name, topic, envelope.type).inc()
                log.warning("handler failed", exc_info=True,
                            extra={"consumer": self.name, "event_id": envelope.id,
                                   "type": envelope.type, "attempt": attempt})
                if attempt >= self._retry.max_attempts:
                    await self._dead_letter(record, topic, error, attempts=attempt)
                    return
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            metrics.HANDLER_SECONDS.labels(self.name, envelope.type).observe(
                time.perf_counter() - started)
            if applied:
                metrics.EVENTS_CONSUMED.labels(self.name, topic, envelope.type).inc()
            else:
                metrics.EVENTS_DUPLICATE.labels(self.name, topic).inc()
            return

    async def _apply(self, handler: Handler, envelope: Envelope) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, self.name, envelope):
                return False
            await handler(conn, envelope)
            return True

    async def _dead_letter(self, record: ConsumerRecord, topic: str, error: Exception,
                           attempts: int) -> None:
        headers = dead_letter_headers(
            record.headers or (), error=error, consumer=self.name, topic=record.topic,
            partition=record.partition, offset=record.offset, attempts=attempts)
        await self._dead_letters.send_and_wait(
            self._settings.topic(dlq_of(topic)), key=record.key, value=record.value,
            headers=headers)
        metrics.EVENTS_DEAD_LETTERED.labels(self.name, topic).inc()
        log.error("event dead-lettered", extra={"consumer": self.name, "topic": topic,
                                                "offset": record.offset, "reason": str(error)})
