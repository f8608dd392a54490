"""Kafka clients configured the platform's way."""

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
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


def create_consumer(
    settings: PlatformSettings, consumer_name: str, topics: list[str]
) -> AIOKafkaConsumer:
    """A consumer in group ``consumer_name`` that commits only after the effect."""
    return AIOKafkaConsumer(
        *[settings.topic(t) for t in topics],
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.group(consumer_name),
        client_id=f"{settings.service_name}-{consumer_name}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=1000,  # a batch per partition is one transaction: larger, cheaper
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
