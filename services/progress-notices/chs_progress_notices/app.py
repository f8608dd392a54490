"""The progress-notice processor: enrollment result events → ``chs.notices.requests``.

Delivery is at-least-once with idempotent effects: a source event's offset is acked only after
its notices (or its dead letter) are acknowledged by the broker, and a redelivered event
yields the same notice ids (``chs_events.events.notices.notice_id``), by which notification deduplicates.

The stream is iterated with manual acks (``stream.noack()``): faust's automatic ack runs in a
``finally`` and would mark an event done even when its processing was cancelled half-way
(worker stopping, partition revoked), so its offset could be committed with no notice sent.

The processor owns no topic: every topic it reads or writes is in the catalog and created by
``chs_events.admin.ensure_topics``; faust is told never to declare one.
"""
import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import faust
from faust.types import EventT, StreamT, TopicT

from chs_events import metrics
from chs_events.deadletter import dead_letter_headers
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_events.topics import NOTICE_REQUESTS, dlq_of
from chs_progress_notices.rules import SOURCE_TOPICS, notices_for
from chs_progress_notices.settings import ProgressNoticeSettings

log = logging.getLogger(__name__)

CONSUMER = "progress-notices"
SOURCE = "/chs/progress-notices"


def _raw_topic(app: faust.App, *names: str) -> TopicT:
    # internal=False and no partitions: faust neither creates nor reconfigures it.
    return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", internal=False, partitions=None)


class NoticeProcessor:
    """Processes one source event at a time; ``process`` returns once the outcome is durable.

    It raises nothing but cancellation: a record that is not a valid envelope is dead-lettered
    at once, a failing handler is retried with backoff and then dead-lettered, and a dead
    letter is retried until the broker takes it. The caller acks the event when it returns.
    """

    def __init__(self, settings: ProgressNoticeSettings, *, notices: TopicT,
                 dead_letters: dict[str, TopicT]) -> None:
        self._settings = settings
        self._notices = notices
        self._dead_letters = dead_letters

    async def process(self, event: EventT) -> None:
        message = event.message
        headers = list(message.headers or ())
        topic = message.topic.removeprefix(self._settings.topic_prefix)
        try:
            source = Envelope.from_record(message.key, message.value, headers)
        except Exception as error:  # noqa: BLE001 - InvalidEnvelope, or one that broke the parser
            await self._dead_letter(message, headers, topic, error, attempts=0)
            return
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                sent = await self._publish_notices(source)
            except Exception as error:  # noqa: BLE001 - any failure is retried, then dead-lettered
                metrics.EVENTS_FAILED.labels(CONSUMER, topic, source.type).inc()
                log.warning("handler failed", exc_info=True,
                            extra={"consumer": CONSUMER, "event_id": source.id,
                                   "type": source.type, "attempt": attempt})
                if attempt >= self._settings.max_attempts:
                    await self._dead_letter(message, headers, topic, error, attempts=attempt)
                    return
                await asyncio.sleep(self._delay(attempt))
                continue
            metrics.HANDLER_SECONDS.labels(CONSUMER, source.type).observe(
                time.perf_counter() - started)
            metrics.EVENTS_CONSUMED.labels(CONSUMER, topic, source.type).inc()
            if sent:
                log.info("notices requested",
                         extra={"event_id": source.id, "type": source.type,
                                "notices": [(n.template_id, n.notice_id) for n in sent]})
            return

    async def _publish_notices(self, source: Envelope) -> list[NoticeRequested]:
        notices = notices_for(source)
        records = [source.caused(notice, source=SOURCE).to_record() for notice in notices]
        pending = [await self._send(self._notices, r.key, r.value, r.headers) for r in records]
        # Every delivery is awaited (acks=all) before the source event may be acked.
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        metrics.EVENTS_PUBLISHED.labels(NOTICE_REQUESTS, NoticeRequested.ce_type).inc(
            len(outcomes) - len(failures))
        if failures:
            raise failures[0]
        return notices

    async def _dead_letter(self, message: Any, headers: list[tuple[str, bytes]], topic: str,
                           error: BaseException, attempts: int) -> None:
        dlq_headers = dead_letter_headers(
            headers, error=error, consumer=CONSUMER, topic=message.topic,
            partition=message.partition, offset=message.offset, attempts=attempts)
        # The event's offset is not acked before its dead letter is durable: a broker outage
        # holds the partition here rather than losing the event.
        failures = 0
        while True:
            try:
                await (await self._send(self._dead_letters[topic], message.key,
                                        message.value, dlq_headers))
                break
            except Exception:  # noqa: BLE001
                failures += 1
                log.error("dead letter not published; retrying", exc_info=True,
                          extra={"consumer": CONSUMER, "topic": topic, "offset": message.offset})
                await asyncio.sleep(self._delay(failures))
        metrics.EVENTS_DEAD_LETTERED.labels(CONSUMER, topic).inc()
        log.error("event dead-lettered",
                  extra={"consumer": CONSUMER, "topic": topic, "partition": message.partition,
                         "offset": message.offset, "reason": str(error), "attempts": attempts})

    @staticmethod
    async def _send(topic: TopicT, key: bytes | None, value: bytes | None,
                    headers: Sequence[tuple[str, bytes]]) -> asyncio.Future:
        # force=True: publish now, never as an attachment released on commit.
        return await topic.send(key=key, value=value, headers=list(headers), force=True)

    def _delay(self, attempt: int) -> float:
        return min(self._settings.retry_base_delay_seconds * 2 ** (attempt - 1),
                   self._settings.retry_max_delay_seconds)


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
        dead_letters={t: _raw_topic(app, settings.topic(dlq_of(t))) for t in SOURCE_TOPICS},
    )

    # One event at a time per worker, in partition order.
    @app.agent(source, name=CONSUMER, concurrency=1)
    async def progress_notices(stream: StreamT) -> None:
        manual = stream.noack()
        async for event in manual.events():
            await processor.process(event)
            await manual.ack(event)

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        log.info("partitions assigned",
                 extra={"consumer": CONSUMER, "partitions": len(assigned),
                        "seconds_since_start": round(time.monotonic() - created, 3),
                        "assignment": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)})

    return app
