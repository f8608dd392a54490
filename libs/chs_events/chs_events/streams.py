"""The faust stream processors' mechanism, once: the progress-notice, account-notice, fraud and
push processors keep only their rules (and tables) over it.

- ``create_app``: a faust app with the platform's settings (brokers, group, no topic declared,
  the store), which logs each assignment of partitions;
- ``raw_topic``: a topic of bytes that faust never creates or reconfigures;
- ``process_in_batches``: the agent, a ``BatchProcessor`` driving ``chs_events.processing``
  with manual acks, the effect of what each batch caused and the dead-letter path;
  ``publisher``, the effect that publishes it (one event type, or several, each to its own
  topic); a processor may give its own effect instead (the push processor writes its
  database), or several, each taking the outputs of its kind (``Routed``: the push processor
  writes its profiles and publishes its notices);
- ``table``: a table of bytes, its changelog from the catalog, its RocksDB memory bounded;
  ``stored``: a table's value in one store look-up;
- ``run_worker``: the faust worker with the platform's logging and metrics;
- its settings are ``chs_events.settings.ProcessorSettings`` (a processor subclasses it).

Delivery is at-least-once with idempotent effects: a source event's offset is acked only after
what it caused (or its dead letter) is acknowledged by the broker (``acks=all``), and faust
flushes the producer (the tables' changelog records, ``acks=all``) before it commits any
offset. A processor's step must give a redelivered event the same ids (a notice's
``notice_id``, a signal's ``signal_id``), by which the consumers downstream deduplicate; what it
causes is published caused by it (its correlation, the event as the causation), under the
envelope id the processor derives from the output (``envelope_id``: a signal raised again is the
same event) or a new one.

The stream is taken in batches with manual acks (``stream.noack_take``): faust's automatic ack
runs in a ``finally`` and would mark an event done even when its processing was cancelled
half-way (worker stopping, partition revoked), so its offset could be committed with nothing
published. A batch's outputs are published together and their acknowledgements awaited
together (one broker round trip for the batch, not one per event); a batch that fails is
processed again one event at a time (``chs_events.processing``: bounded retries, then the
record to its topic's ``.dlq``), and what is published again keeps its ids. A step must be
idempotent too: applying an event again (to the tables) changes nothing.

A processor owns no topic: every topic it reads or writes (its tables' changelogs too) is in
the catalog and created by ``chs_events.admin.ensure_topics``; faust is told never to declare
one.

A table write goes to the store and changelog partition of the event being applied: faust
takes it from the current event, which a batch does not set per event, so each event's step
runs with it set (``_in_partition_of``).

It needs ``faust-streaming``, a dependency of the processors, not of this library: only a
processor imports this module.
"""

import asyncio
import logging
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import faust
import uvloop
from faust.streams import _current_event
from faust.types import EventT, RecordMetadata, StreamT, TableT, TopicT

from chs_events import metrics
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.logging import configure_logging
from chs_events.metrics import serve_metrics
from chs_events.processing import BatchFailed, Outcome, Record, RecordProcessor
from chs_events.retry import Backoff
from chs_events.settings import ProcessorSettings
from chs_events.topics import dlq_of

log = logging.getLogger(__name__)

# faust's and aiokafka's own loggers speak only from WARNING up.
QUIET_LOGGERS = ("faust", "mode", "aiokafka", "kafka")

# As the platform's producers (chs_events.kafka): a batch's records go in a few requests, not
# one request each (faust's default, 0, sends every record on its own).
PRODUCER_LINGER_SECONDS = 0.005

E = TypeVar("E", bound=Event)  # what a processor publishes
T = TypeVar("T")  # what a processor's step yields for its effect
# What a batch caused, each with its source event, taken at once (published, or written).
Effect = Callable[[Sequence[tuple[Envelope, T]]], Awaitable[None]]


S = TypeVar("S", bound=ProcessorSettings)  # a processor's own subclass


def brokers(bootstrap: str) -> list[str]:
    """``CHS_KAFKA_BOOTSTRAP`` (``host:port,…``) as faust's broker URLs."""
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


def state_dir(settings: ProcessorSettings, consumer: str) -> Path:
    """The tables' directory: one per consumer group (so per topic prefix) under ``data_dir``.
    A store mirrors its group's changelogs, so two platforms on one machine (another topic
    prefix: the tests', a bench's) never open, or resume from, each other's RocksDB files."""
    return settings.data_dir / f"{settings.topic_prefix}{consumer}"


def create_app(
    settings: ProcessorSettings, consumer: str, *, store: str = "memory", **options: Any
) -> faust.App:
    """The app of the consumer group ``consumer`` (also its client id), its tables in ``store``
    (``memory``, ``rocksdb``); ``options``, more of faust's settings."""
    created = time.monotonic()
    app = faust.App(
        settings.group(consumer),  # the consumer group
        broker=brokers(settings.kafka_bootstrap),
        broker_client_id=consumer,
        store=f"{store}://",
        web_enabled=False,
        autodiscover=False,
        processing_guarantee="at_least_once",
        # No faust-owned topics: no leader topic, no declaring; a table's changelog is raw.
        topic_disable_leader=True,
        topic_allow_declare=False,
        stream_publish_on_commit=False,
        stream_wait_empty=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=PRODUCER_LINGER_SECONDS,
        broker_session_timeout=settings.member_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(state_dir(settings, consumer)),
        **options,
    )

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # faust's receiver type
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        log.info(
            "partitions assigned",
            extra={
                "consumer": consumer,
                "partitions": len(assigned),
                "seconds_since_start": round(time.monotonic() - created, 3),
                "assignment": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
            },
        )

    return app


def raw_topic(
    app: faust.App, *names: str, partitions: int | None = None, acks: bool = True
) -> TopicT:
    """Keys and values as bytes (the envelope's own encoding). ``internal=False``: faust never
    creates or reconfigures it (``topic_allow_declare`` is off too); ``partitions`` only where
    faust must know them (a table's changelog); ``acks=False``, a topic no stream acks (a
    changelog)."""
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
        partitions=partitions,
        acks=acks,
    )


def table(
    app: faust.App,
    settings: ProcessorSettings,
    name: str,
    changelog: str,
    *,
    partitions: int,
) -> TableT:
    """A table of bytes (keys and values in the processor's own encoding) whose changelog is
    the catalog's topic ``changelog`` (logical name), with ``partitions`` like its inputs; on
    RocksDB, each partition's database within ``rocksdb_write_buffer_bytes`` (two buffers) and
    ``rocksdb_block_cache_bytes``."""
    return app.Table(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        # as faust's own changelogs: not a stream's, so never acked; an acking topic's
        # partitions are checked for progress, and a changelog's recovered partitions are
        # paused by design (faust logged "Stream has not started processing" for each)
        changelog_topic=raw_topic(
            app, settings.topic(changelog), partitions=partitions, acks=False
        ),
        options={
            "write_buffer_size": settings.rocksdb_write_buffer_bytes,
            "max_write_buffer_number": 2,
            "block_cache_size": settings.rocksdb_block_cache_bytes,
        },
    )


@contextmanager
def _in_partition_of(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def stored(table: TableT, key: bytes) -> bytes | None:
    """A table's value for ``key`` read from its store in one look-up. ``table.get`` asks the
    store twice (whether the key is there, then its value, because a table may have a default)
    and tells faust's sensors each time: a third of what a read costs a processor."""
    return cast(bytes | None, table.data.get(key))


def event_id(event: EventT) -> str | None:
    """The ``ce_id`` header of a consumed event, unparsed."""
    for name, value in cast(Sequence[tuple[str, bytes]], event.message.headers or ()):
        if name == "ce_id":
            return value.decode(errors="replace")
    return None


class BatchProcessor(Generic[T]):
    """Applies a batch of events (``step``: an event → what it causes) and hands what they
    caused to ``effect`` at once (``Publisher``: published to their topics; a processor may
    write its database instead); ``process`` returns once that (or an event's dead letter, to
    ``dead_letters`` by topic name) is durable, so the caller may ack the events. It raises
    nothing but cancellation (``chs_events.processing``). ``types``: the event types applied,
    the others passed over; ``waits_out``: errors of the effect that are not the event's fault
    (its database is down), retried until they clear, never dead-lettered."""

    def __init__(
        self,
        settings: ProcessorSettings,
        consumer: str,
        *,
        step: Callable[[Envelope], Sequence[T]],
        effect: Effect[T],
        dead_letters: Mapping[str, TopicT],
        types: frozenset[str] | None = None,
        waits_out: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._step = step
        self._effect = effect
        self._dead_letters = dead_letters
        self._events: dict[str, EventT] = {}
        self._engine = RecordProcessor(
            consumer,
            self._apply_one,
            self._publish_dead_letter,
            apply_all=self._apply_all,
            topic_prefix=settings.topic_prefix,
            backoff=Backoff(
                settings.max_attempts,
                settings.retry_base_delay_seconds,
                settings.retry_max_delay_seconds,
            ),
            waits_out=waits_out,
            types=types,
        )

    async def process(self, events: Sequence[EventT]) -> None:
        self._events = {ce_id: e for e in events if (ce_id := event_id(e)) is not None}
        try:
            # faust types headers as a list or a mapping; a raw topic's are the record's list.
            await self._engine.process_all([cast(Record, event.message) for event in events])
        finally:
            self._events = {}

    def _caused(self, source: Envelope) -> list[tuple[Envelope, T]]:
        event = self._events.get(source.id)
        with nullcontext() if event is None else _in_partition_of(event):
            return [(source, output) for output in self._step(source)]

    async def _apply_one(self, source: Envelope) -> Outcome:
        await self._effect(self._caused(source))
        return Outcome.APPLIED

    async def _apply_all(self, sources: Sequence[Envelope]) -> list[Outcome]:
        caused = []  # every step first: nothing takes effect for a batch one event of fails
        for index, source in enumerate(sources):
            try:
                caused += self._caused(source)
            except Exception as error:
                raise BatchFailed(index, error) from error
        await self._effect(caused)
        return [Outcome.APPLIED] * len(sources)

    async def _publish_dead_letter(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await (await _send(self._dead_letters[topic], key, value, headers))


class Publisher(Generic[E]):
    """The effect of a processor that publishes: each output caused by its source event
    (``Envelope.caused``) published to the topic of its type (``outputs`` by logical name; one
    topic for every type where ``outputs`` is one), every delivery awaited (acks=all) before
    the source events may be acked. ``output``: the event type (or types) published;
    ``envelope_id``: an output's envelope id (else, or where it gives None, a new one);
    ``published(source, output)``: told of each output once it is handed to the producer (a
    log line)."""

    def __init__(
        self,
        settings: ProcessorSettings,
        output: type[E] | tuple[type[E], ...],
        outputs: TopicT | Mapping[str, TopicT],
        *,
        envelope_id: Callable[[E], str | None] | None = None,
        published: Callable[[Envelope, E], None] | None = None,
    ) -> None:
        self._kinds = kinds = output if isinstance(output, tuple) else (output,)
        self._outputs: Mapping[str, TopicT] = (
            outputs if isinstance(outputs, Mapping) else {kind.topic: outputs for kind in kinds}
        )
        self._envelope_id = envelope_id
        self._published = published
        self._source = settings.ce_source

    def _envelope(self, source: Envelope, output: E) -> Envelope:
        caused = source.caused(output, source=self._source)
        given = None if self._envelope_id is None else self._envelope_id(output)
        return caused if given is None else replace(caused, id=given)

    async def __call__(self, caused: Sequence[tuple[Envelope, E]]) -> None:
        pending = []
        kinds = []
        for source, output in caused:
            r = self._envelope(source, output).to_record()
            pending.append(await _send(self._outputs[output.topic], r.key, r.value, r.headers))
            kinds.append(type(output))
            if self._published is not None:
                self._published(source, output)
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        delivered = Counter(
            kind
            for kind, o in zip(kinds, outcomes, strict=True)
            if not isinstance(o, BaseException)
        )
        for kind in self._kinds:
            metrics.EVENTS_PUBLISHED.labels(kind.topic, kind.ce_type).inc(delivered[kind])
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]


async def _send(
    topic: TopicT, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> Awaitable[RecordMetadata]:
    # force=True: publish now, never as an attachment released on commit.
    return await topic.send(key=key, value=value, headers=list(headers), force=True)


def publisher(
    app: faust.App,
    settings: ProcessorSettings,
    output: type[E] | tuple[type[E], ...],
    *,
    envelope_id: Callable[[E], str | None] | None = None,
    published: Callable[[Envelope, E], None] | None = None,
) -> Publisher[E]:
    """The effect that publishes ``output`` (one event type or several) to its topics."""
    kinds = output if isinstance(output, tuple) else (output,)
    return Publisher(
        settings,
        output,
        {topic: raw_topic(app, settings.topic(topic)) for topic in {k.topic for k in kinds}},
        envelope_id=envelope_id,
        published=published,
    )


class Routed:
    """The effect of a processor whose step yields outputs of several kinds, each kind taken by
    its own effect (``routes``: a type, or types, and its effect; the first route an output is
    an instance of takes it): a batch's outputs split by route, the effects run together, the
    call returning once every one has (so the source events are acked only when all of it is
    durable); the first failure raised, after all have ended. The effects must be idempotent
    as any effect: a batch one of them failed is processed again, and the others redo theirs."""

    def __init__(self, *routes: tuple[type | tuple[type, ...], Effect[Any]]) -> None:
        self._routes = routes

    def _route(self, output: object) -> int:
        for index, (kind, _) in enumerate(self._routes):
            if isinstance(output, kind):
                return index
        raise TypeError(f"no effect takes a {type(output).__name__}")

    async def __call__(self, caused: Sequence[tuple[Envelope, Any]]) -> None:
        parts: list[list[tuple[Envelope, Any]]] = [[] for _ in self._routes]
        for pair in caused:
            parts[self._route(pair[1])].append(pair)
        outcomes = await asyncio.gather(
            *(effect(part) for part, (_, effect) in zip(parts, self._routes, strict=True) if part),
            return_exceptions=True,
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]


def process_in_batches(
    app: faust.App,
    settings: ProcessorSettings,
    consumer: str,
    *,
    sources: Sequence[str],
    step: Callable[[Envelope], Sequence[T]],
    effect: Effect[T],
    types: frozenset[str] | None = None,
    waits_out: tuple[type[BaseException], ...] = (),
) -> BatchProcessor[T]:
    """The agent ``consumer`` of the topics ``sources`` (logical names): batches through a
    ``BatchProcessor`` whose ``effect`` takes what each batch caused (``publisher``: published),
    dead letters to each source's ``.dlq``, each event acked once its batch is processed."""
    processor = BatchProcessor(
        settings,
        consumer,
        step=step,
        effect=effect,
        dead_letters={
            settings.topic(dlq_of(t)): raw_topic(app, settings.topic(dlq_of(t))) for t in sources
        },
        types=types,
        waits_out=waits_out,
    )
    source = raw_topic(app, *(settings.topic(t) for t in sources))

    # One batch at a time per worker, each partition's events in order.
    @app.agent(source, name=consumer, concurrency=1)
    async def in_batches(stream: StreamT) -> None:
        manual = cast(faust.Stream, stream)  # StreamT does not declare noack_take
        batches = manual.noack_take(settings.batch_size, within=settings.batch_wait_seconds)
        async for events in batches:
            await processor.process(events)
            for event in events:
                await manual.ack(event)

    return processor


def configure_worker_logging(name: str, settings: ProcessorSettings) -> None:
    """The platform's JSON lines on stderr as ``name``; faust's and aiokafka's own loggers only
    from WARNING up."""
    configure_logging(name, settings.log_level)
    level = max(logging.WARNING, logging.getLogger().level)
    for quiet in QUIET_LOGGERS:
        logging.getLogger(quiet).setLevel(level)


class StreamWorker(faust.Worker):
    """A faust worker that keeps the platform's logging instead of installing its own, and
    logs ``ready`` (when given) once the tables are recovered from their changelogs and the
    agent runs (``seconds_since_start``: the recovery time after a restart)."""

    def __init__(
        self,
        app: faust.App,
        settings: ProcessorSettings,
        name: str,
        *,
        logger: logging.Logger,
        role: str,
        ready: str | None,
        extra: Mapping[str, object],
    ) -> None:
        self._settings = settings
        self._name = name
        self._log = logger
        self._role = role
        self._ready = ready
        self._extra = dict(extra)
        self._created_at = time.monotonic()
        super().__init__(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
        self.spinner = None  # no terminal progress output

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        # mode has just replaced the root handlers with its own: put ours back.
        configure_worker_logging(self._name, self._settings)

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        if self._ready is not None:
            self._log.info(
                self._ready,
                extra={
                    **self._extra,
                    "seconds_since_start": round(time.monotonic() - self._created_at, 3),
                },
            )

    def on_worker_shutdown(self) -> None:
        self._log.info(f"{self._role} stopping")


def run_worker(
    settings: S,
    consumer: str,
    create: Callable[[S], faust.App],
    *,
    logger: logging.Logger,
    role: str = "worker",
    ready: str | None = None,
    **extra: object,
) -> None:
    """Runs the app ``create(settings)`` until SIGTERM or SIGINT, which stop it cleanly: the
    batch in hand is finished (or left unacked, to be redelivered), processed offsets are
    committed, the tables' stores closed, the group left. Logs as ``consumer``: ``<role>
    starting`` and ``ready`` (once running) with ``extra``, ``<role> stopping``; metrics on
    ``CHS_METRICS_PORT``."""
    configure_worker_logging(consumer, settings)
    state_dir(settings, consumer).mkdir(parents=True, exist_ok=True)
    serve_metrics(settings.metrics_port, settings.http_host)
    logger.info(
        f"{role} starting",
        extra={
            "bootstrap": settings.kafka_bootstrap,
            "group": settings.group(consumer),
            "topic_prefix": settings.topic_prefix,
            **extra,
        },
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the loop faust's worker creates
    worker = StreamWorker(
        create(settings), settings, consumer, logger=logger, role=role, ready=ready, extra=extra
    )
    worker.execute_from_commandline()
