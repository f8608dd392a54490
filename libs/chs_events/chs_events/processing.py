"""In partition order: the retry and dead-letter engine shared by the consumer runner
(``chs_events.consumer``) and the stream processors (faust).

``process_all(records)`` takes a batch as consumed. Records of event types the caller does not
apply are passed over unparsed (by the ``ce_type`` header); an invalid envelope goes to its
topic's ``.dlq`` at once. The valid events are applied together by ``apply_all`` (one database
transaction, one round of broker acknowledgements): per-event cost is what limits a consumer,
not the work. When that fails, the events are applied one at a time: a failing application is
retried with backoff a bounded number of times and then dead-lettered with the reason, so one
bad event is retried or dead-lettered alone and the rest still apply. A ``PermanentError`` or a
domain error (``chs_events.errors``) is dead-lettered at once: retrying cannot change the
answer. An error listed in ``waits_out`` (the service's own database is down) is not the event's
fault: it is retried until it clears, so the partition waits rather than dead-lettering
everything. A dead letter is retried until the broker takes it. ``process_all`` returns once
every outcome is durable; only then may the caller commit the offsets.
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


class BatchFailed(Exception):
    """Raised by an ``apply_all`` when the event at ``index`` failed (``error``): nothing of
    the batch took effect."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"event {index} of the batch failed: {error!r}")
        self.index = index
        self.error = error


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
ApplyAll = Callable[[Sequence[Envelope]], Awaitable[Sequence[Outcome]]]
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
    apply_all: ApplyAll | None = None
    # The event types applied; a record of another type (by its ce_type header) is passed over
    # unparsed by process_all. None: every record is parsed.
    types: frozenset[str] | None = None

    async def process_all(
        self, records: Sequence[Record], stop: asyncio.Event | None = None
    ) -> None:
        """Records as consumed (each partition's in order); returns once every outcome is
        durable."""
        run: list[tuple[Record, Envelope]] = []
        for record in records:
            if not self._applies_to(record):
                continue
            try:
                envelope = Envelope.from_record(record.key, record.value, record.headers)
            except Exception as error:  # noqa: BLE001 - InvalidEnvelope, or one that broke the parser
                await self._apply_run(run, stop)  # the events before it first: partition order
                run = []
                await self._dead_letter_invalid(record, error, stop)
                continue
            run.append((record, envelope))
        await self._apply_run(run, stop)

    def _applies_to(self, record: Record) -> bool:
        if self.types is None:
            return True
        ce_type = next((value for name, value in record.headers or () if name == "ce_type"), None)
        return ce_type is None or ce_type.decode(errors="replace") in self.types

    async def _apply_run(
        self, run: Sequence[tuple[Record, Envelope]], stop: asyncio.Event | None
    ) -> None:
        while len(run) > 1 and self.apply_all is not None:
            started = time.perf_counter()
            try:
                outcomes = await self.apply_all([envelope for _, envelope in run])
            except BatchFailed as failed:
                # Its failure is that event's first attempt; the events around it batch again.
                await self._apply_run(run[: failed.index], stop)
                record, envelope = run[failed.index]
                await self._apply_one(record, envelope, stop, first_failure=failed.error)
                run = run[failed.index + 1 :]
                continue
            except Exception as error:  # noqa: BLE001 - e.g. the commit: nobody's in particular
                log.info(
                    "batch not applied; applying its events one at a time",
                    extra={"consumer": self.consumer, "events": len(run), "error": repr(error)},
                )
                break
            seconds = (time.perf_counter() - started) / len(run)
            for (record, envelope), outcome in zip(run, outcomes, strict=True):
                self._observe(record, envelope, outcome, seconds)
            return
        for record, envelope in run:
            await self._apply_one(record, envelope, stop)

    async def _dead_letter_invalid(
        self, record: Record, error: Exception, stop: asyncio.Event | None
    ) -> None:
        topic = record.topic.removeprefix(self.topic_prefix)
        await self._dead_letter(record, topic, error, attempts=0, stop=stop)

    def _observe(
        self, record: Record, envelope: Envelope, outcome: Outcome, seconds: float
    ) -> None:
        topic = record.topic.removeprefix(self.topic_prefix)
        if outcome is Outcome.APPLIED:
            metrics.HANDLER_SECONDS.labels(self.consumer, envelope.type).observe(seconds)
            metrics.EVENTS_CONSUMED.labels(self.consumer, topic, envelope.type).inc()
        elif outcome is Outcome.DUPLICATE:
            metrics.EVENTS_DUPLICATE.labels(self.consumer, topic).inc()

    async def _apply_one(
        self,
        record: Record,
        envelope: Envelope,
        stop: asyncio.Event | None,
        *,
        first_failure: Exception | None = None,
    ) -> None:
        topic = record.topic.removeprefix(self.topic_prefix)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                if first_failure is not None:  # the attempt made in a batch
                    failure, first_failure = first_failure, None
                    raise failure
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
            self._observe(record, envelope, outcome, time.perf_counter() - started)
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
