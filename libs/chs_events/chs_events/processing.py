"""In partition order: the retry and dead-letter engine shared by the consumer runner
(``chs_events.consumer``) and the stream processors (faust).

``process_all(records)`` takes a batch as consumed. Records of event types the caller does not
apply, or does not even know (a producer deployed before this consumer), are passed over
unparsed by the ``ce_type`` header and counted (``chs_events_ignored_total``), never
dead-lettered; a known type is read ignoring the fields this code does not know
(``events.base.read_event``). An invalid envelope goes to its topic's ``.dlq`` at once. The
valid events are applied together by ``apply_all`` (one database transaction, one round of
broker acknowledgements): per-event cost is what limits a consumer, not the work. When that
fails, the events are applied one at a time: a failing application is retried with backoff a
bounded number of times and then dead-lettered with the reason, so one bad event is retried or
dead-lettered alone and the rest still apply. A ``PermanentError`` or a domain error
(``chs_events.errors``) is dead-lettered at once: retrying cannot change the answer. An
``Awaiting`` (the event came before its prerequisite, on another topic or through a slower
consumer) is parked when the caller gives a ``parking`` (``chs_events.parking``: the consumer
runner's database), and the stream moves on; a newer event of the same key then waits behind it
(one person's events apply in order), unless its type is one of the ``releasers`` (it may bring
the prerequisite). Without a ``parking`` it is retried like any failure. An
error listed in ``waits_out`` (the service's own database is down) is not the event's fault: it
is retried until it clears, so the partition waits rather than dead-lettering everything. A
dead letter is retried until the broker takes it. ``process_all`` returns once every outcome is
durable; only then may the caller commit the offsets.
"""

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chs_events import metrics
from chs_events.deadletter import dead_letter_headers
from chs_events.envelope import Envelope
from chs_events.errors import DomainError
from chs_events.events import EVENT_TYPES
from chs_events.masking import redact
from chs_events.retry import Backoff
from chs_events.topics import dlq_of

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """The event can never be processed as it is: dead-letter it without retrying."""


class Awaiting(Exception):
    """Raised by a handler whose prerequisite has not arrived yet: what it needs comes with
    another event (perhaps on another topic) that its service has not applied yet. ``kind``
    names what it waits for, ``key`` which one: ``Awaiting("enrollment", person_id, reason)``.
    The consumer runner parks the event until the handler that applies the prerequisite
    releases it (``chs_events.parking.release(conn, kind, key)``)."""

    def __init__(self, kind: str, key: str, reason: str = "") -> None:
        super().__init__(reason or f"awaiting {kind}")
        self.kind = kind
        self.key = key

    @property
    def prerequisite(self) -> str:
        return prerequisite(self.kind, self.key)


def prerequisite(kind: str, key: str) -> str:
    """What a parked event waits for, as ``parking`` stores it: ``enrollment:<person_id>``."""
    return f"{kind}:{key}"


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
    PARKED = "parked"  # waits for its prerequisite (``Awaiting``)


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


class Parking(Protocol):
    """Where a consumer keeps the events that wait for their prerequisite."""

    async def parked_keys(self, keys: Collection[bytes]) -> set[bytes]:
        """Those of ``keys`` (records' keys) that have events parked."""
        ...

    async def park(self, record: Record, envelope: Envelope, awaiting: Awaiting | None) -> Outcome:
        """Keep the event (PARKED), awaiting its prerequisite or (``None``) only behind the
        parked events of its key; DUPLICATE when it was applied or parked before. Returns once
        that is durable."""
        ...


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
    # unparsed by process_all, and so is one of a type the registry does not know. None: every
    # type the registry knows.
    types: frozenset[str] | None = None
    parking: Parking | None = None
    # Types whose handlers may bring a prerequisite (``parking.releases``): never held behind.
    releasers: frozenset[str] = frozenset()
    _accepted: frozenset[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = EVENT_TYPES.keys() if self.types is None else self.types & EVENT_TYPES.keys()
        object.__setattr__(self, "_accepted", frozenset(t.encode() for t in known))

    async def process_all(
        self, records: Sequence[Record], stop: asyncio.Event | None = None
    ) -> None:
        """Records as consumed (each partition's in order); returns once every outcome is
        durable."""
        run: list[tuple[Record, Envelope]] = []
        ignored: dict[bytes, int] = {}
        held = await self._parked_keys(records, stop)  # keys whose newer events wait behind
        for record in records:
            ce_type = _ce_type(record)
            if ce_type is not None and ce_type not in self._accepted:
                ignored[ce_type] = ignored.get(ce_type, 0) + 1
                continue
            try:
                envelope = Envelope.from_record(record.key, record.value, record.headers)
            except Exception as error:  # noqa: BLE001 - InvalidEnvelope, or one that broke the parser
                await self._apply_run(run, held, stop)  # the events before it first: in order
                run = []
                await self._dead_letter_invalid(record, error, stop)
                continue
            run.append((record, envelope))
        await self._apply_run(run, held, stop)
        for ce_type, count in ignored.items():
            name = ce_type.decode(errors="replace")[:200]
            metrics.EVENTS_IGNORED.labels(self.consumer, name).inc(count)

    async def _parked_keys(
        self, records: Sequence[Record], stop: asyncio.Event | None
    ) -> set[bytes]:
        if self.parking is None or not records:
            return set()
        keys = {record.key for record in records if record.key is not None}
        while True:
            try:
                return await self.parking.parked_keys(keys)
            except self.waits_out as error:
                await self._wait_out(error, stop)

    async def _wait_out(self, error: BaseException, stop: asyncio.Event | None) -> None:
        """An outage of ``waits_out``: a pause before trying again, or (stopping) the error."""
        log.warning(
            "dependency unavailable; retrying",
            extra={"consumer": self.consumer, "error": repr(error)},
        )
        if stop is not None and stop.is_set():
            raise error
        await asyncio.sleep(self.backoff.max_delay)

    def _behind(self, record: Record, envelope: Envelope, held: set[bytes]) -> bool:
        return record.key in held and envelope.type not in self.releasers

    async def _apply_run(
        self,
        run: Sequence[tuple[Record, Envelope]],
        held: set[bytes],
        stop: asyncio.Event | None,
    ) -> None:
        while run:
            cut = next(
                (i for i, (record, env) in enumerate(run) if self._behind(record, env, held)),
                len(run),
            )
            if cut == 0:  # behind a parked event of its key: parked too
                record, envelope = run[0]
                await self._apply_one(record, envelope, held, stop, behind=True)
                run = run[1:]
                continue
            run = run[await self._apply_batch(run[:cut], held, stop) :]

    async def _apply_batch(
        self,
        run: Sequence[tuple[Record, Envelope]],
        held: set[bytes],
        stop: asyncio.Event | None,
    ) -> int:
        """Apply the first events of ``run``: all of them, or (a batch that failed) those up to
        the one that failed; returns how many. The rest may now be behind a parked event."""
        if len(run) > 1 and self.apply_all is not None:
            started = time.perf_counter()
            try:
                outcomes = await self.apply_all([envelope for _, envelope in run])
            except BatchFailed as failed:
                # Its failure is that event's first attempt; the events around it batch again.
                await self._apply_run(run[: failed.index], held, stop)
                record, envelope = run[failed.index]
                await self._apply_one(record, envelope, held, stop, first_failure=failed.error)
                return failed.index + 1
            except Exception as error:  # noqa: BLE001 - e.g. the commit: nobody's in particular
                log.info(
                    "batch not applied; applying its events one at a time",
                    extra={"consumer": self.consumer, "events": len(run), "error": repr(error)},
                )
            else:
                seconds = (time.perf_counter() - started) / len(run)
                for (record, envelope), outcome in zip(run, outcomes, strict=True):
                    self._observe(record, envelope, outcome, seconds)
                return len(run)
        for record, envelope in run:
            behind = self._behind(record, envelope, held)
            await self._apply_one(record, envelope, held, stop, behind=behind)
        return len(run)

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

    def _parked(self, record: Record, envelope: Envelope, awaiting: Awaiting | None) -> None:
        topic = record.topic.removeprefix(self.topic_prefix)
        kind = "behind" if awaiting is None else awaiting.kind
        metrics.EVENTS_PARKED.labels(self.consumer, topic, kind).inc()
        log.info(  # not the key: the kind of prerequisite, and the reason masked
            "event parked until its prerequisite arrives",
            extra={
                "consumer": self.consumer,
                "event_id": envelope.id,
                "type": envelope.type,
                "awaiting": kind,
                "reason": redact(str(awaiting or "behind a parked event of its key")),
                "topic": topic,
                "partition": record.partition,
                "offset": record.offset,
            },
        )

    async def _apply_one(
        self,
        record: Record,
        envelope: Envelope,
        held: set[bytes],
        stop: asyncio.Event | None,
        *,
        first_failure: Exception | None = None,
        behind: bool = False,
    ) -> None:
        """``behind``: not applied but parked behind the parked events of its key."""
        topic = record.topic.removeprefix(self.topic_prefix)
        attempt = 0
        parks = behind  # the event is parked: behind, or for what the handler awaits
        awaiting: Awaiting | None = None
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                if first_failure is not None:  # the attempt made in a batch
                    failure, first_failure = first_failure, None
                    raise failure
                if parks and self.parking is not None:
                    if await self.parking.park(record, envelope, awaiting) is Outcome.PARKED:
                        self._parked(record, envelope, awaiting)
                        if record.key is not None:
                            held.add(record.key)  # its key's newer events wait behind it
                    return
                outcome = await self.apply(envelope)
            except self.waits_out as error:
                attempt -= 1
                await self._wait_out(error, stop)
                continue
            except (PermanentError, DomainError) as error:
                await self._dead_letter(record, topic, error, attempts=attempt, stop=stop)
                return
            except Exception as error:
                if isinstance(error, Awaiting) and self.parking is not None and not parks:
                    parks, awaiting = True, error  # not a failure: parked, not retried
                    attempt -= 1
                    continue
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

    async def dead_letter(
        self,
        record: Record,
        error: BaseException,
        *,
        attempts: int,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Publish the record, unchanged, to its topic's ``.dlq`` with ``error`` as the reason
        (what ``parking`` does with an event past its bound)."""
        topic = record.topic.removeprefix(self.topic_prefix)
        await self._dead_letter(record, topic, error, attempts=attempts, stop=stop)

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


def _ce_type(record: Record) -> bytes | None:
    for name, value in record.headers or ():
        if name == "ce_type":
            return value
    return None
