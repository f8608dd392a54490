"""The faust processors' mechanism (``chs_events.streams``) without a broker: the app's
settings, raw topics, and the batch processor over in-memory topics (what it publishes, when it
returns, what it dead-letters, the event each step runs in)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import cast

import faust
import pytest
from faust.streams import current_event
from faust.types import EventT, TopicT
from prometheus_client import REGISTRY

from chs_events.envelope import Envelope
from chs_events.events.enrollment import StaffRemoved
from chs_events.events.notices import NoticeRequested
from chs_events.settings import ProcessorSettings
from chs_events.streams import (
    BatchProcessor,
    Publisher,
    brokers,
    create_app,
    event_id,
    raw_topic,
    table,
)
from chs_events.topics import ENROLLMENT_EVENTS, FRAUD_RECORDS_STATE, NOTICE_REQUESTS, dlq_of

pytestmark = pytest.mark.unit

CONSUMER = "streams-test"
SOURCE = f"t.{ENROLLMENT_EVENTS}"  # as consumed: prefixed


def Settings() -> ProcessorSettings:
    """A processor's settings, as its subclass would give them: quick retries."""
    return ProcessorSettings(
        service_name="streams-test",
        kafka_bootstrap="127.0.0.1:19092",
        topic_prefix="t.",
        commit_interval_seconds=2.8,
        max_attempts=2,
        retry_base_delay_seconds=0.001,
        retry_max_delay_seconds=0.001,
        data_dir=Path("/nonexistent/streams-test"),
    )


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None


@dataclass(eq=False)
class Event:
    """What the processor reads of a faust event: its message (weakly referenced as faust's
    current event)."""

    message: Message


@dataclass
class Topic:
    """A topic whose sends the test acknowledges: each ``send`` a future, failed while
    ``failing`` counts down."""

    sent: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = field(
        default_factory=list
    )
    failing: int = 0

    async def send(
        self,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        force: bool,
    ) -> asyncio.Future[None]:
        assert force, "published now, never attached to the commit"
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failing:
            self.failing -= 1
            acknowledged.set_exception(ConnectionError("broker away"))
        else:
            self.sent.append((key, value, headers))
            acknowledged.set_result(None)
        return acknowledged


def removed(employer: str) -> Envelope:
    return Envelope(
        StaffRemoved(
            person_id="p1", employer_id=employer, enrollment_id="e1", end_date=date(2025, 1, 1)
        ),
        source="/chs/test",
    )


def consumed(envelope: Envelope, offset: int) -> Event:
    record = envelope.to_record()
    return Event(Message(SOURCE, 0, offset, record.key, record.value, record.headers))


def notice_of(source: Envelope) -> NoticeRequested:
    assert isinstance(source.event, StaffRemoved)
    return NoticeRequested(
        person_id=source.event.person_id,
        notice_id=f"n-{source.id}",
        template_id=f"staff.removed.{source.event.employer_id}",
        params={},
        category="business_result",
    )


def published_count() -> float:
    value = REGISTRY.get_sample_value(
        "chs_events_published_total",
        {"topic": NOTICE_REQUESTS, "type": NoticeRequested.ce_type},
    )
    return value or 0.0


class Harness:
    def __init__(
        self,
        *,
        failing_for: frozenset[str] = frozenset(),
        types: frozenset[str] | None = None,
        envelope_id: Callable[[NoticeRequested], str] | None = None,
    ):
        self.outputs = Topic()
        self.dead = Topic()
        self.failing_for = failing_for
        self.current: list[object] = []
        self.published: list[tuple[str, str]] = []
        self.processor = BatchProcessor(
            Settings(),
            CONSUMER,
            step=self.step,
            effect=Publisher(
                Settings(),
                NoticeRequested,
                cast(TopicT, self.outputs),
                envelope_id=envelope_id,
                published=lambda source, notice: self.published.append(
                    (source.id, notice.notice_id)
                ),
            ),
            dead_letters={f"t.{dlq_of(ENROLLMENT_EVENTS)}": cast(TopicT, self.dead)},
            types=types,
        )

    def step(self, source: Envelope) -> list[NoticeRequested]:
        self.current.append(current_event())
        assert isinstance(source.event, StaffRemoved)
        if source.event.employer_id in self.failing_for:
            raise ValueError(f"cannot map {source.event.employer_id}")
        return [notice_of(source)]

    async def process(self, *events: Event) -> None:
        await self.processor.process(cast(list[EventT], list(events)))

    def envelopes(self) -> list[Envelope]:
        found = []
        for key, value, headers in self.outputs.sent:
            assert key is not None and value is not None
            found.append(Envelope.from_record(key, value, headers))
        return found

    def notices(self) -> list[str]:
        return [cast(NoticeRequested, e.event).template_id for e in self.envelopes()]


def test_brokers_are_the_bootstrap_list_as_urls() -> None:
    assert brokers("a:9092, b:9093,") == ["kafka://a:9092", "kafka://b:9093"]


def test_the_app_declares_nothing_and_waits_for_every_replica() -> None:
    app = create_app(Settings(), CONSUMER, store="memory", table_standby_replicas=0)
    assert app.conf.id == "t.streams-test"  # the group, prefixed
    assert app.conf.broker_client_id == CONSUMER
    assert [str(url) for url in app.conf.broker] == ["kafka://127.0.0.1:19092"]
    assert str(app.conf.store) == "memory:"
    assert app.conf.topic_allow_declare is False and app.conf.topic_disable_leader is True
    assert app.conf.producer_acks == -1
    assert app.conf.producer_linger == 0.005  # a batch in a few requests, not one each
    assert app.conf.stream_publish_on_commit is False
    assert app.conf.processing_guarantee.value == "at_least_once"
    assert app.conf.broker_commit_interval == 2.8
    assert app.conf.table_standby_replicas == 0


def test_a_table_is_of_bytes_its_changelog_the_catalog_s_its_rocksdb_memory_bounded() -> None:
    app = create_app(Settings(), CONSUMER, store="memory", table_standby_replicas=0)
    made = table(app, Settings(), "records", FRAUD_RECORDS_STATE, partitions=6)
    assert made.key_type is bytes and made.value_type is bytes
    assert made.changelog_topic.get_topic_name() == f"t.{FRAUD_RECORDS_STATE}"
    assert made.changelog_topic.partitions == 6 and made.partitions == 6
    assert made.changelog_topic.acks is False and made.changelog_topic.internal is False
    assert made.options == {
        "write_buffer_size": 8 * 2**20,
        "max_write_buffer_number": 2,
        "block_cache_size": 16 * 2**20,
    }


def test_a_raw_topic_is_bytes_faust_never_creates() -> None:
    app = faust.App("raw-test", autodiscover=False)
    topic = raw_topic(app, "a", "b")
    assert list(topic.topics) == ["a", "b"]
    assert topic.internal is False and topic.partitions is None
    assert topic.key_type is bytes and topic.value_type is bytes
    assert raw_topic(app, "changelog", partitions=6).partitions == 6


def test_the_event_id_is_the_ce_id_header() -> None:
    envelope = removed("E1")
    assert event_id(cast(EventT, consumed(envelope, 0))) == envelope.id
    headless = Event(Message(SOURCE, 0, 0, b"k", b"v", None))
    assert event_id(cast(EventT, headless)) is None


async def test_a_batch_is_published_together_each_step_in_its_event() -> None:
    harness = Harness()
    sources = [removed(f"E{i}") for i in range(3)]
    events = [consumed(s, i) for i, s in enumerate(sources)]
    before = published_count()
    await harness.process(*events)
    assert harness.notices() == ["staff.removed.E0", "staff.removed.E1", "staff.removed.E2"]
    assert harness.current == events  # a table write would go to the event's partition
    assert harness.published == [(s.id, f"n-{s.id}") for s in sources]
    assert published_count() == before + 3
    assert current_event() is None  # reset after each step


async def test_a_failing_event_is_dead_lettered_alone_the_others_published_once() -> None:
    harness = Harness(failing_for=frozenset({"E1"}))
    sources = [removed(f"E{i}") for i in range(3)]
    await harness.process(*(consumed(s, i) for i, s in enumerate(sources)))
    # the batch failed at E1 before anything was sent; then one event at a time
    assert harness.notices() == ["staff.removed.E0", "staff.removed.E2"]
    [(key, value, headers)] = harness.dead.sent
    assert key == b"p1"
    dead = dict(headers)
    assert value == sources[1].to_record().value
    assert dead["dlq_consumer"] == CONSUMER.encode()
    assert dead["dlq_error_type"] == b"ValueError"
    assert dead["dlq_attempts"] == b"2"
    assert dead["dlq_source_topic"] == SOURCE.encode()


async def test_an_unacknowledged_output_is_sent_again_before_process_returns() -> None:
    harness = Harness()
    harness.outputs.failing = 1  # the batch's first delivery fails
    source = removed("E0")
    before = published_count()
    await harness.process(consumed(source, 0))
    assert harness.notices() == ["staff.removed.E0"]  # retried: the same notice, its same id
    assert harness.dead.sent == []
    assert published_count() == before + 1


async def test_types_not_applied_are_passed_over() -> None:
    harness = Harness(types=frozenset({"chs.enrollment.other.v1"}))
    await harness.process(consumed(removed("E0"), 0))
    assert harness.outputs.sent == [] and harness.dead.sent == [] and harness.current == []


async def test_what_an_event_causes_is_published_caused_by_it() -> None:
    harness = Harness()
    source = replace(removed("E0"), correlation_id="request-1")
    await harness.process(consumed(source, 0))
    [caused] = harness.envelopes()
    assert caused.source == "/chs/streams-test"
    assert caused.causation_id == source.id
    assert caused.correlation_id == "request-1"
    assert caused.id != cast(NoticeRequested, caused.event).notice_id  # a new envelope id
    uncorrelated = removed("E1")
    await harness.process(consumed(uncorrelated, 1))
    assert harness.envelopes()[1].correlation_id == uncorrelated.id


async def test_an_output_redelivered_is_the_same_envelope_under_its_envelope_id() -> None:
    harness = Harness(envelope_id=lambda notice: notice.notice_id)
    source = removed("E0")
    await harness.process(consumed(source, 0))
    await harness.process(consumed(source, 0))  # redelivered
    first, again = harness.envelopes()
    assert first.id == again.id == f"n-{source.id}"
    assert first.causation_id == again.causation_id == source.id
