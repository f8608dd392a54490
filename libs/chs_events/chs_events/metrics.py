"""Prometheus metrics of the shared mechanism, defined once for every process."""

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_PUBLISHED = Counter(
    "chs_events_published_total", "Events published to Kafka", ["topic", "type"]
)
EVENTS_CONSUMED = Counter(
    "chs_events_consumed_total", "Events whose handler succeeded", ["consumer", "topic", "type"]
)
EVENTS_DUPLICATE = Counter(
    "chs_events_duplicate_total", "Events skipped as already processed", ["consumer", "topic"]
)
EVENTS_FAILED = Counter(
    "chs_events_failed_total", "Handler attempts that raised", ["consumer", "topic", "type"]
)
EVENTS_DEAD_LETTERED = Counter(
    "chs_events_dead_lettered_total", "Events sent to a DLQ", ["consumer", "topic"]
)
EVENTS_IGNORED = Counter(
    "chs_events_ignored_total",
    "Records passed over unparsed: a type the consumer has no handler for or does not know",
    ["consumer", "type"],
)
EVENTS_PARKED = Counter(
    "chs_events_parked_total",
    "Events parked until their prerequisite arrives (chs_events.parking)",
    ["consumer", "topic", "awaiting"],
)
EVENTS_UNPARKED = Counter(
    "chs_events_unparked_total",
    "Parked events applied once their prerequisite arrived, or dead-lettered past the bound",
    ["consumer", "outcome"],
)
PARKED_EVENTS = Gauge(
    "chs_parked_events", "Events parked in the consumer's database (its partitions)", ["consumer"]
)
HANDLER_SECONDS = Histogram(
    "chs_handler_seconds", "Handler latency, inbox and commit included", ["consumer", "type"]
)
OUTBOX_BACKLOG = Gauge("chs_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "chs_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)

OUTBOX_QUARANTINED = Counter(
    "chs_outbox_quarantined_total",
    "Outbox rows set aside because the broker can never take them",
    ["service", "topic"],
)
RELAY_OUTAGES = Counter(
    "chs_relay_outages_total", "Broker or database outages the outbox relay waited out", ["service"]
)


def serve_metrics(port: int | None, host: str = "127.0.0.1") -> None:
    """Expose /metrics for a process that has no HTTP API of its own."""
    if port:
        start_http_server(port, addr=host)
