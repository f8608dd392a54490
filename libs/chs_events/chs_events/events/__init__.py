"""Typed event models, one module per domain; importing this package registers every one."""

import importlib
import pkgutil

from chs_events.events.base import (
    EVENT_TYPES,
    Event,
    InvalidEventData,
    UnknownEventType,
    json_schema,
    model_for,
    parse_event,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "EVENT_TYPES",
    "Event",
    "InvalidEventData",
    "UnknownEventType",
    "json_schema",
    "model_for",
    "parse_event",
]
