"""Kafka clients configured the platform's way."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from chs_events.retry import Backoff
from chs_events.settings import PlatformSettings

log = logging.getLogger(__name__)

# Waits between attempts to reach a broker that is not up yet: 0.5 s doubling to 30 s.
STARTUP_BACKOFF = Backoff(max_attempts=0, base_delay=0.5, max_delay=30.0)


def create_producer(settings: PlatformSettings, role: str) -> AIOKafkaProducer:
    """An idempotent producer (acks=all): retries never duplicate or reorder a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.service_name}-{role}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )


async def started_producer(
    settings: PlatformSettings, role: str, stop: asyncio.Event
) -> AIOKafkaProducer | None:
    """A started producer, once the broker answers (a process may start before its broker, or
    while it restarts); ``None`` when ``stop`` comes first."""
    attempt = 0
    while not stop.is_set():
        producer = create_producer(settings, role)
        try:
            await producer.start()
            return producer
        except KafkaError as error:
            await producer.stop()
            attempt += 1
            delay = STARTUP_BACKOFF.delay(attempt)
            log.warning("broker not reachable (%s); retrying in %.1f s", error, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return None


# What the broker gathers for an unhurried group's fetch, and how long it may wait for it:
# an event on a quiet topic reaches such a group up to that much later (its read model trails
# the topic by that much), and the idle group polls ten times a second. Every other group is
# answered as soon as one event is there: a wait would delay each hop of the pipeline, and a
# short one makes every idle group poll the broker many times a second.
UNHURRIED_FETCH_BYTES = 64 * 1024
UNHURRIED_FETCH_WAIT_MS = 100


def create_consumer(
    settings: PlatformSettings, consumer_name: str, topics: list[str], *, unhurried: bool = False
) -> AIOKafkaConsumer:
    """A consumer in group ``consumer_name`` that commits only after the effect; ``unhurried``
    (``consumer.Subscription``): its fetches gather ``UNHURRIED_FETCH_BYTES`` for up to
    ``UNHURRIED_FETCH_WAIT_MS``."""
    return AIOKafkaConsumer(
        *[settings.topic(t) for t in topics],
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.group(consumer_name),
        client_id=f"{settings.service_name}-{consumer_name}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=1000,  # a batch per partition is one transaction: larger, cheaper
        fetch_min_bytes=UNHURRIED_FETCH_BYTES if unhurried else 1,
        fetch_max_wait_ms=UNHURRIED_FETCH_WAIT_MS if unhurried else 500,
    )


class BrokerProbe:
    """Answers whether the broker responds; connects lazily so a process can start first."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._client: AIOKafkaClient | None = None

    async def answers(self, timeout: float = 2.0) -> bool:
        try:
            if self._client is None:
                client = AIOKafkaClient(
                    bootstrap_servers=self._bootstrap, client_id=self._client_id
                )
                await asyncio.wait_for(client.bootstrap(), timeout)
                self._client = client
            return bool(await asyncio.wait_for(self._client.force_metadata_update(), timeout))
        except (TimeoutError, OSError, KafkaError):
            return False

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of these topics (names as on the broker); a missing topic has none."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, client_id="chs-partitions")
    try:
        await client.bootstrap()
        cluster = await client.fetch_all_metadata()
    finally:
        await client.close()
    return [
        TopicPartition(topic, number)
        for topic in topics
        for number in sorted(cluster.partitions_for_topic(topic) or ())
    ]


class LogReader:
    """Reads topics from the beginning without a consumer group (every partition assigned,
    nothing committed): ``read_to(ends)`` yields the batches up to the end offsets ``ends``
    (``end_offsets()``, taken when the caller chooses), and the next call goes on from there."""

    def __init__(self, settings: PlatformSettings, role: str, topics: Sequence[str]) -> None:
        self._settings = settings
        self._topics = list(topics)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"{settings.service_name}-{role}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=1000,
        )
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        self.partitions = await partitions_of(self._settings.kafka_bootstrap, self._topics)
        await self._consumer.start()
        if self.partitions:
            self._consumer.assign(self.partitions)
            await self._consumer.seek_to_beginning(*self.partitions)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def beginning_offsets(self) -> dict[TopicPartition, int]:
        """The first offset each partition still holds (above 0: older records are gone)."""
        if not self.partitions:
            return {}
        return dict(await self._consumer.beginning_offsets(self.partitions))

    async def end_offsets(self) -> dict[TopicPartition, int]:
        if not self.partitions:
            return {}
        return dict(await self._consumer.end_offsets(self.partitions))

    async def read_to(
        self, ends: dict[TopicPartition, int]
    ) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
        """The records before ``ends``, a partition's batch at a time, in partition order."""
        remaining = set(ends)
        while remaining:
            for partition in list(remaining):
                if await self._consumer.position(partition) >= ends[partition]:
                    remaining.discard(partition)
                    self._consumer.pause(partition)  # the next read_to resumes it
            if not remaining:
                break
            self._consumer.resume(*remaining)
            batches = await self._consumer.getmany(*remaining, timeout_ms=500)
            for partition, records in batches.items():
                before_end = [r for r in records if r.offset < ends[partition]]
                if len(before_end) < len(records):  # read past the end: read again next time
                    self._consumer.seek(partition, ends[partition])
                if before_end:
                    yield before_end
