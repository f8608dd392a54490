"""Kafka clients configured the platform's way."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from chs_events.settings import PlatformSettings


def create_producer(settings: PlatformSettings, role: str) -> AIOKafkaProducer:
    """An idempotent producer (acks=all): retries never duplicate or reorder a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.service_name}-{role}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )


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
