"""Typed event models; importing this package registers every event type."""
from chs_events.events import enrollment, notices  # noqa: F401  (registration side effect)
from chs_events.events.base import (
    EVENT_TYPES,
    Event,
    InvalidEventData,
    UnknownEventType,
    json_schema,
    model_for,
    parse_event,
)

__all__ = [
    "EVENT_TYPES",
    "Event",
    "InvalidEventData",
    "UnknownEventType",
    "json_schema",
    "model_for",
    "parse_event",
]
