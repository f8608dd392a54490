"""The fraud processor: the feeds and the benefit events → ``chs.fraud.signals``.

One agent reads the five input topics (all keyed and co-partitioned by ``person_id``) and keeps
both sides of every match in two faust tables of the person (``chs_fraud.rules.state``): faust
has no join, so each arrival looks at what the other side left (``chs_fraud.rules``).

Delivery is at-least-once with idempotent effects, as in the progress-notice processor: the
stream is taken in batches with manual acks (``noack_take``); a batch's signals are published
(``acks=all``) and acknowledged before its events are acked, and faust flushes the producer (the
tables' changelog records, ``acks=all``) before it commits any offset. A signal's id (and its
envelope's) is deterministic, so a redelivered event publishes the same signal again and case
work takes it once. A batch that
fails is applied one event at a time (``chs_events.processing``: bounded retries, then the
record to its topic's ``.dlq``); the rules are idempotent, so applying an event again changes
nothing.

The processor declares no topic: the inputs, ``chs.fraud.signals``, the dead-letter topics and
the two changelogs (``STATE_TOPICS``, compacted, 6 partitions like the inputs) are in the
catalog (``chs_events.admin.ensure_topics``).

A table write goes to the store and changelog partition of the event being applied: faust
takes it from the current event, which a batch does not set per event, so ``_in_partition_of``
sets it for each.
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import faust
from faust.streams import _current_event
from faust.types import EventT, RecordMetadata, StreamT, TableT, TopicT

from chs_events import metrics
from chs_events.envelope import Envelope
from chs_events.events.fraud import FraudSignalRaised
from chs_events.processing import BatchFailed, Outcome, Record, RecordProcessor
from chs_events.retry import Backoff
from chs_events.topics import (
    BY_NAME,
    FRAUD_BENEFITS_STATE,
    FRAUD_RECORDS_STATE,
    FRAUD_SIGNALS,
    dlq_of,
)
from chs_fraud import rules
from chs_fraud.rules.state import dump_benefits, dump_records, load_benefits, load_records
from chs_fraud.settings import FraudSettings

log = logging.getLogger(__name__)

CONSUMER = "fraud-processor"
RECORDS_CHANGELOG, BENEFITS_CHANGELOG = FRAUD_RECORDS_STATE, FRAUD_BENEFITS_STATE
STATE_TOPICS = tuple(BY_NAME[name] for name in (RECORDS_CHANGELOG, BENEFITS_CHANGELOG))
PARTITIONS = 6  # of every input topic, so of the tables


def _raw(app: faust.App, *names: str, partitions: int | None = None) -> TopicT:
    # internal=False: faust never creates or reconfigures it (topic_allow_declare is off too).
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
        partitions=partitions,
    )


@contextmanager
def _in_partition_of(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def _event_id(event: EventT) -> str | None:
    for name, value in cast(Sequence[tuple[str, bytes]], event.message.headers or ()):
        if name == "ce_id":
            return value.decode(errors="replace")
    return None


class SignalProcessor:
    """Applies a batch of events to the person tables and publishes the signals raised;
    ``process`` returns once the signals, the table changes (or an event's dead letter) are
    acknowledged by the broker, so the caller may ack the events."""

    def __init__(
        self,
        app: faust.App,
        settings: FraudSettings,
        *,
        records: TableT,
        benefits: TableT,
        signals: TopicT,
        dead_letters: dict[str, TopicT],
    ) -> None:
        self._app = app
        self._records = records
        self._benefits = benefits
        self._signals = signals
        self._dead_letters = dead_letters
        self._source = settings.ce_source
        self._rules = settings.rules
        self._events: dict[str, EventT] = {}
        self._engine = RecordProcessor(
            CONSUMER,
            self._apply_one,
            self._publish_dead_letter,
            apply_all=self._apply_all,
            topic_prefix=settings.topic_prefix,
            backoff=Backoff(
                settings.max_attempts,
                settings.retry_base_delay_seconds,
                settings.retry_max_delay_seconds,
            ),
            types=rules.TYPES,
        )

    async def process(self, events: Sequence[EventT]) -> None:
        self._events = {ce_id: e for e in events if (ce_id := _event_id(e)) is not None}
        try:
            await self._engine.process_all([cast(Record, event.message) for event in events])
        finally:
            self._events = {}

    def _step(self, envelope: Envelope) -> list[tuple[Envelope, FraudSignalRaised]]:
        """The event applied to its person's tables; the signals it raised."""
        key = envelope.event.person_id.encode()
        with _in_partition_of(self._events[envelope.id]):
            step = rules.apply(
                envelope.event,
                envelope.id,
                load_records(self._records.get(key)),
                load_benefits(self._benefits.get(key)),
                self._rules,
            )
            if step.records is not None:
                self._records[key] = dump_records(step.records)
            if step.benefits is not None:
                self._benefits[key] = dump_benefits(step.benefits)
        return [(envelope, signal) for signal in step.signals]

    async def _apply_one(self, envelope: Envelope) -> Outcome:
        await self._publish(self._step(envelope))
        return Outcome.APPLIED

    async def _apply_all(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        raised = []
        for index, envelope in enumerate(envelopes):
            try:
                raised += self._step(envelope)
            except Exception as error:
                raise BatchFailed(index, error) from error
        await self._publish(raised)
        return [Outcome.APPLIED] * len(envelopes)

    async def _publish(self, raised: Sequence[tuple[Envelope, FraudSignalRaised]]) -> None:
        pending = []
        for source, signal in raised:
            record = Envelope(
                signal,
                source=self._source,
                id=signal.signal_id,  # a signal raised again is the same event
                correlation_id=source.correlation_id or source.id,
                causation_id=source.id,
            ).to_record()
            pending.append(await _send(self._signals, record.key, record.value, record.headers))
            log.info(
                "signal raised",
                extra={"signal_id": signal.signal_id, "kind": signal.kind, "event_id": source.id},
            )
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        metrics.EVENTS_PUBLISHED.labels(FRAUD_SIGNALS, FraudSignalRaised.ce_type).inc(
            len(outcomes) - len(failures)
        )
        if failures:
            raise failures[0]

    async def _publish_dead_letter(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await (await _send(self._dead_letters[topic], key, value, headers))


async def _send(
    topic: TopicT, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> Awaitable[RecordMetadata]:
    # force=True: publish now, never as an attachment released on commit.
    return await topic.send(key=key, value=value, headers=list(headers), force=True)


def state_dir(settings: FraudSettings) -> Path:
    """The tables' directory: one per consumer group (so per topic prefix) under
    ``CHS_DATA_DIR``. A store mirrors its group's changelogs, so two platforms on one machine
    (another topic prefix: the e2e tests', a bench's) never open, or resume from, each other's
    RocksDB files."""
    return settings.data_dir / settings.group(CONSUMER)


def create_app(settings: FraudSettings) -> faust.App:
    created = time.monotonic()
    app = faust.App(
        settings.group(CONSUMER),
        broker=[f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",") if h.strip()],
        broker_client_id=f"{settings.service_name}-processor",
        store=f"{settings.store}://",
        web_enabled=False,
        autodiscover=False,
        processing_guarantee="at_least_once",
        topic_disable_leader=True,
        topic_allow_declare=False,
        stream_publish_on_commit=False,
        stream_wait_empty=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.member_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(state_dir(settings)),
        table_standby_replicas=0,
    )
    tables = {
        name: app.Table(
            name,
            partitions=PARTITIONS,
            key_type=bytes,
            value_type=bytes,  # raw, the app's serializers
            changelog_topic=_raw(app, settings.topic(changelog), partitions=PARTITIONS),
        )
        for name, changelog in (("records", RECORDS_CHANGELOG), ("benefits", BENEFITS_CHANGELOG))
    }
    source = _raw(app, *(settings.topic(t) for t in rules.SOURCE_TOPICS))
    processor = SignalProcessor(
        app,
        settings,
        records=tables["records"],
        benefits=tables["benefits"],
        signals=_raw(app, settings.topic(FRAUD_SIGNALS)),
        dead_letters={
            settings.topic(dlq_of(t)): _raw(app, settings.topic(dlq_of(t)))
            for t in rules.SOURCE_TOPICS
        },
    )

    # One batch at a time per worker, each partition's events in order.
    @app.agent(source, name=CONSUMER, concurrency=1)
    async def fraud_signals(stream: StreamT) -> None:
        manual = cast(faust.Stream, stream)  # StreamT does not declare noack_take
        batches = manual.noack_take(settings.batch_size, within=settings.batch_wait_seconds)
        async for events in batches:
            await processor.process(events)
            for event in events:
                await manual.ack(event)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # faust's receiver type
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        log.info(
            "partitions assigned",
            extra={
                "consumer": CONSUMER,
                "partitions": len(assigned),
                "seconds_since_start": round(time.monotonic() - created, 3),
            },
        )

    return app
