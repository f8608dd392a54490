"""The event envelope of DESIGN §2: CloudEvents 1.0 in Kafka binary mode, JSON data via orjson.

An ``Envelope`` is a validated event plus its CloudEvents attributes. It is built from a typed
event when producing and from a Kafka record when consuming; both ends validate the data
against the event type's model, the producer strictly, the consumer ignoring the fields of a
newer version of the type that it does not know (``events.base.read_event``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import uuid6
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from chs_events.events import Event, InvalidEventData, UnknownEventType
from chs_events.events.base import read_event

CONTENT_TYPE = "application/json"
CORRELATION = "correlationid"
CAUSATION = "causationid"


class InvalidEnvelope(ValueError):
    """A record that is not a valid platform event; the reason says why."""


class _OrjsonData(JSONFormat):
    """The SDK's JSON format with the event data written and read by orjson (binary mode only
    uses these two)."""

    def write_data(
        self, data: dict[str, Any] | str | bytes | None, datacontenttype: str | None
    ) -> bytes:
        return orjson.dumps(data)

    def read_data(
        self, body: bytes, datacontenttype: str | None
    ) -> dict[str, Any] | str | bytes | None:
        if datacontenttype != CONTENT_TYPE:
            raise InvalidEnvelope(f"content-type {datacontenttype!r}, expected {CONTENT_TYPE}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise InvalidEnvelope(f"value is not JSON: {error}") from None


_DATA_FORMAT = _OrjsonData()


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Envelope:
    event: Event
    source: str
    id: str = field(default_factory=lambda: str(uuid6.uuid7()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None

    @property
    def type(self) -> str:
        return self.event.ce_type

    @property
    def key(self) -> str:
        return self.event.person_id

    @property
    def topic(self) -> str:
        return self.event.topic

    def caused(self, event: Event, source: str) -> "Envelope":
        """A new event caused by this one: same correlation, causation = this event."""
        return Envelope(
            event=event,
            source=source,
            correlation_id=self.correlation_id or self.id,
            causation_id=self.id,
        )

    def to_record(self) -> KafkaRecord:
        attributes = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": self.time,
            "subject": self.event.subject,
            "datacontenttype": CONTENT_TYPE,
        }
        if self.correlation_id:
            attributes[CORRELATION] = self.correlation_id
        if self.causation_id:
            attributes[CAUSATION] = self.causation_id
        cloud_event = CloudEvent(attributes, self.event.model_dump(mode="json"))
        message = ce_kafka.to_binary(cloud_event, _DATA_FORMAT, key_mapper=lambda _: None)
        return KafkaRecord(self.key.encode(), message.value, list(message.headers.items()))

    @classmethod
    def from_record(
        cls, key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]] | None
    ) -> "Envelope":
        """Parse and validate a consumed record; raises InvalidEnvelope with the reason."""
        header_map = dict(headers or ())
        if header_map.get("ce_specversion") != b"1.0":
            raise InvalidEnvelope("header ce_specversion missing or not 1.0")
        if value is None:
            raise InvalidEnvelope("record has no value")
        try:
            cloud_event = ce_kafka.from_binary(
                ce_kafka.KafkaMessage(header_map, None, value), _DATA_FORMAT, CloudEvent
            )
        except BaseCloudEventException as error:
            raise InvalidEnvelope(f"CloudEvents attributes invalid: {error}") from None
        except (UnicodeDecodeError, ValueError) as error:
            if isinstance(error, InvalidEnvelope):
                raise
            raise InvalidEnvelope(f"CloudEvents headers invalid: {error}") from None
        try:
            event = read_event(cloud_event.get_type(), cloud_event.get_data())
        except (UnknownEventType, InvalidEventData) as error:
            raise InvalidEnvelope(str(error)) from None
        if key is None or key.decode(errors="replace") != event.person_id:
            raise InvalidEnvelope("record key is not the event's person_id")
        time = cloud_event.get_time()
        if time is None or time.tzinfo is None:
            raise InvalidEnvelope("header ce_time missing or without a timezone")
        return cls(
            event=event,
            source=cloud_event.get_source(),
            id=cloud_event.get_id(),
            time=time,
            correlation_id=cloud_event.get_extension(CORRELATION),
            causation_id=cloud_event.get_extension(CAUSATION),
        )
