"""The headers a dead-lettered record carries: the original ones plus why and where it failed."""

from collections.abc import Iterable
from datetime import UTC, datetime


def dead_letter_headers(
    headers: Iterable[tuple[str, bytes]],
    *,
    error: BaseException,
    consumer: str,
    topic: str,
    partition: int,
    offset: int,
    attempts: int,
) -> list[tuple[str, bytes]]:
    reason = str(error) or type(error).__name__
    return [
        *headers,
        ("dlq_reason", reason[:2000].encode()),
        ("dlq_error_type", type(error).__name__.encode()),
        ("dlq_consumer", consumer.encode()),
        ("dlq_source_topic", topic.encode()),
        ("dlq_source_partition", str(partition).encode()),
        ("dlq_source_offset", str(offset).encode()),
        ("dlq_attempts", str(attempts).encode()),
        ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
