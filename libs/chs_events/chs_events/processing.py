"""One event at a time, in partition order: the retry and dead-letter engine shared by the
consumer runner (``chs_events.consumer``) and the stream processors (faust).

For each record: parse and validate the envelope (``InvalidEnvelope`` → its topic's ``.dlq`` at
once), apply
it, retry a failing application with backoff a bounded number of times and then dead-letter it
with the reason. A ``PermanentError`` or a domain error (``chs_events.errors``) is dead-lettered
at once: retrying cannot change the answer. An error listed in ``waits_out`` (the service's own
database is down) is not the event's fault: it is retried until it clears, so the partition
waits rather than dead-lettering everything. A dead letter is retried until the broker takes it.
``process`` returns once the outcome is durable; only then may the caller commit the offset.
"""

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chs_events import metrics
from chs_events.deadletter import dead_letter_headers
from chs_events.envelope import Envelope
from chs_events.errors import DomainError
from chs_events.retry import Backoff
from chs_events.topics import dlq_of

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """The event can never be processed as it is: dead-letter it without retrying."""


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before (the inbox knew its id)
    IGNORED = "ignored"  # a valid event this consumer has no interest in


class Record(Protocol):
    """What aiokafka's ``ConsumerRecord`` and faust's ``Message`` both carry."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] | None


Apply = Callable[[Envelope], Awaitable[Outcome]]
PublishDeadLetter = Callable[
    [str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[None]
]


@dataclass(frozen=True)
class RecordProcessor:
    """``consumer`` names the group in metrics and dead-letter headers; ``publish_dead_letter``
    (topic, key, value, headers) returns once the broker has the record."""

    consumer: str
    apply: Apply
    publish_dead_letter: PublishDeadLetter
    topic_prefix: str = ""
    backoff: Backoff = Backoff()
    waits_out: tuple[type[BaseException], ...] = ()

    async def process(self, record: Record, stop: asyncio.Event | None = None) -> None:
        topic = record.topic.removeprefix(self.topic_prefix)
        try:
            envelope = Envelope.from_record(record.key, record.value, record.headers)
        except Exception as error:  # noqa: BLE001 - InvalidEnvelope, or one that broke the parser
            await self._dead_letter(record, topic, error, attempts=0, stop=stop)
            return
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                outcome = await self.apply(envelope)
            except self.waits_out as error:
                attempt -= 1
                log.warning(
                    "dependency unavailable; retrying",
                    extra={"consumer": self.consumer, "error": repr(error)},
                )
                if stop is not None and stop.is_set():
                    raise
                await asyncio.sleep(self.backoff.max_delay)
                continue
            except (PermanentError, DomainError) as error:
                await self._dead_letter(record, topic, error, attempts=attempt, stop=stop)
                return
            except Exception as error:
                metrics.EVENTS_FAILED.labels(self.consumer, topic, envelope.type).inc()
                log.warning(
                    "handler failed",
                    exc_info=True,
                    extra={
                        "consumer": self.consumer,
                        "event_id": envelope.id,
                        "type": envelope.type,
                        "attempt": attempt,
                    },
                )
                if self.backoff.exhausted(attempt):
                    await self._dead_letter(record, topic, error, attempts=attempt, stop=stop)
                    return
                await asyncio.sleep(self.backoff.delay(attempt))
                continue
            if outcome is Outcome.APPLIED:
                metrics.HANDLER_SECONDS.labels(self.consumer, envelope.type).observe(
                    time.perf_counter() - started
                )
                metrics.EVENTS_CONSUMED.labels(self.consumer, topic, envelope.type).inc()
            elif outcome is Outcome.DUPLICATE:
                metrics.EVENTS_DUPLICATE.labels(self.consumer, topic).inc()
            return

    async def _dead_letter(
        self,
        record: Record,
        topic: str,
        error: BaseException,
        *,
        attempts: int,
        stop: asyncio.Event | None,
    ) -> None:
        headers = dead_letter_headers(
            record.headers or (),
            error=error,
            consumer=self.consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
        )
        failures = 0
        while True:
            try:
                await self.publish_dead_letter(
                    self.topic_prefix + dlq_of(topic), record.key, record.value, headers
                )
                break
            except Exception:
                failures += 1
                log.error(
                    "dead letter not published; retrying",
                    exc_info=True,
                    extra={"consumer": self.consumer, "topic": topic, "offset": record.offset},
                )
                if stop is not None and stop.is_set():
                    raise
                await asyncio.sleep(self.backoff.delay(failures))
        metrics.EVENTS_DEAD_LETTERED.labels(self.consumer, topic).inc()
        log.error(
            "event dead-lettered",
            extra={
                "consumer": self.consumer,
                "topic": topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": str(error),
                "attempts": attempts,
            },
        )
