"""The progress-notice processor: enrollment result events → ``chs.notices.requests``.

Delivery is at-least-once with idempotent effects: a source event's offset is acked only after
its notices (or its dead letter) are acknowledged by the broker, and a redelivered event
yields the same notice ids (``chs_events.events.notices.notice_id``), by which notification
deduplicates.

The stream is taken in batches with manual acks (``stream.noack_take``): faust's automatic ack
runs in a ``finally`` and would mark an event done even when its processing was cancelled
half-way (worker stopping, partition revoked), so its offset could be committed with no notice
sent. A batch's notices are published together and their acknowledgements awaited together
(one broker round trip for the batch, not one per event); a batch that fails is processed again
one event at a time (``chs_events.processing``), and the repeated notices keep their ids.

The processor owns no topic: every topic it reads or writes is in the catalog and created by
``chs_events.admin.ensure_topics``; faust is told never to declare one.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any, cast

import faust
from faust.types import EventT, RecordMetadata, StreamT, TopicT

from chs_events import metrics
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_events.processing import BatchFailed, Outcome, Record, RecordProcessor
from chs_events.retry import Backoff
from chs_events.topics import NOTICE_REQUESTS, dlq_of
from chs_progress_notices.rules import SOURCE_TOPICS, notices_for
from chs_progress_notices.settings import ProgressNoticeSettings

log = logging.getLogger(__name__)

CONSUMER = "progress-notices"


def _raw_topic(app: faust.App, *names: str) -> TopicT:
    # internal=False and no partitions: faust neither creates nor reconfigures it.
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
        partitions=None,
    )


class NoticeProcessor:
    """Turns one source event into its notice requests; ``process`` returns once the outcome
    (the notices, or the event's dead letter) is acknowledged by the broker, so the caller may
    ack the event. It raises nothing but cancellation (``chs_events.processing``)."""

    def __init__(
        self, settings: ProgressNoticeSettings, *, notices: TopicT, dead_letters: dict[str, TopicT]
    ) -> None:
        self._notices = notices
        self._dead_letters = dead_letters
        self._source = settings.ce_source
        self._engine = RecordProcessor(
            CONSUMER,
            self._publish_notices,
            self._publish_dead_letter,
            apply_all=self._publish_notices_of_all,
            topic_prefix=settings.topic_prefix,
            backoff=Backoff(
                settings.max_attempts,
                settings.retry_base_delay_seconds,
                settings.retry_max_delay_seconds,
            ),
        )

    async def process(self, events: Sequence[EventT]) -> None:
        # faust types headers as a list or a mapping; a raw topic's are the record's list.
        await self._engine.process_all([cast(Record, event.message) for event in events])

    async def _publish_notices(self, source: Envelope) -> Outcome:
        await self._publish([(source, notice) for notice in notices_for(source)])
        return Outcome.APPLIED

    async def _publish_notices_of_all(self, sources: Sequence[Envelope]) -> list[Outcome]:
        requested = []  # every rule first: nothing is sent for a batch one event of fails
        for index, source in enumerate(sources):
            try:
                requested += [(source, notice) for notice in notices_for(source)]
            except Exception as error:
                raise BatchFailed(index, error) from error
        await self._publish(requested)
        return [Outcome.APPLIED] * len(sources)

    async def _publish(self, requested: Sequence[tuple[Envelope, NoticeRequested]]) -> None:
        pending = []
        for source, notice in requested:
            r = source.caused(notice, source=self._source).to_record()
            pending.append(await _send(self._notices, r.key, r.value, r.headers))
            log.debug(
                "notice requested",
                extra={"event_id": source.id, "type": source.type, "notice": notice.notice_id},
            )
        # Every delivery is awaited (acks=all) before the source events may be acked.
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        metrics.EVENTS_PUBLISHED.labels(NOTICE_REQUESTS, NoticeRequested.ce_type).inc(
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


def _brokers(bootstrap: str) -> list[str]:
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


def create_app(settings: ProgressNoticeSettings) -> faust.App:
    created = time.monotonic()
    app = faust.App(
        settings.group(CONSUMER),  # the consumer group
        broker=_brokers(settings.kafka_bootstrap),
        broker_client_id=settings.service_name,
        store="memory://",
        web_enabled=False,
        autodiscover=False,
        processing_guarantee="at_least_once",
        # No faust-owned topics: no leader topic, no declaring, no tables (no changelogs).
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
        datadir=str(settings.data_dir),
    )
    source = _raw_topic(app, *(settings.topic(t) for t in SOURCE_TOPICS))
    processor = NoticeProcessor(
        settings,
        notices=_raw_topic(app, settings.topic(NOTICE_REQUESTS)),
        dead_letters={
            settings.topic(dlq_of(t)): _raw_topic(app, settings.topic(dlq_of(t)))
            for t in SOURCE_TOPICS
        },
    )

    # One batch at a time per worker, each partition's events in order.
    @app.agent(source, name=CONSUMER, concurrency=1)
    async def progress_notices(stream: StreamT) -> None:
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
                "assignment": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
            },
        )

    return app
