"""Writing to and reading a topic back from the real broker in tests."""

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.structs import RecordMetadata

from chs_events.envelope import Envelope, KafkaRecord
from chs_events.kafka import create_producer
from chs_events.settings import PlatformSettings

# what a test sends: an envelope, its record, or a raw (key, value, headers) triple (a record
# no envelope could produce: an unknown field, a newer type, a broken header)
Message = Envelope | KafkaRecord | tuple[bytes | None, bytes, list[tuple[str, bytes]]]


async def publish(
    where: str | PlatformSettings, topic: str, *messages: Message, pause: float = 0.0
) -> list[RecordMetadata]:
    """Send ``messages`` in order to ``topic`` (its full name, any prefix included) with a
    throwaway idempotent producer; ``where`` is the bootstrap address or the settings naming it.
    ``pause`` seconds between two sends spread them over time."""
    return await publish_each(where, [(topic, message) for message in messages], pause=pause)


async def publish_each(
    where: str | PlatformSettings, messages: Iterable[tuple[str, Message]], pause: float = 0.0
) -> list[RecordMetadata]:
    """Like :func:`publish`, each message to the topic (full name) paired with it."""
    settings = PlatformSettings(kafka_bootstrap=where) if isinstance(where, str) else where
    producer = create_producer(settings, "test")
    await producer.start()
    sent = []
    try:
        for topic, message in messages:
            if isinstance(message, Envelope):
                message = message.to_record()
            key, value, headers = (
                (message.key, message.value, message.headers)
                if isinstance(message, KafkaRecord)
                else message
            )
            sent.append(await producer.send_and_wait(topic, key=key, value=value, headers=headers))
            if pause:
                await asyncio.sleep(pause)
    finally:
        await producer.stop()
    return sent


async def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    """Every record of ``topic`` from the start, waiting until ``expected`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        # a short extra read shows whether more than expected arrived
        for batch in (await consumer.getmany(timeout_ms=1000)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
