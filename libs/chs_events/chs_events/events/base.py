"""The base of every typed event model and the registry from ``ce_type`` to model."""

from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from chs_events.attributes import same_names


class Event(BaseModel):
    """An event's data. Subclasses name their CloudEvents type and owning topic.

    Past-tense names (``PersonRegistered``); ``person_id`` is the Kafka key of every event.
    A producer builds it strictly (a field the model does not have is refused); a consumer
    reads it with ``read_event``, which ignores the fields of a newer version it does not know.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ce_type: ClassVar[str]
    topic: ClassVar[str]
    producer: ClassVar[str]

    person_id: str

    @classmethod
    def of(cls, *sources: object, **given: Any) -> Self:
        """The event of the ``given`` values and, for its other fields, the attributes of the
        same names of ``sources`` (the aggregate that raises it, first): a field keeps one name
        from the aggregate to the wire. ``AccountOpened.of(account)``."""
        return cls(**same_names(cls.model_fields, sources, given))

    @property
    def subject(self) -> str:
        """The aggregate the event is about (``ce_subject``)."""
        return self.person_id


class UnknownEventType(LookupError):
    pass


class InvalidEventData(ValueError):
    pass


EVENT_TYPES: dict[str, type[Event]] = {}


def register(model: type[Event]) -> type[Event]:
    if model.ce_type in EVENT_TYPES:
        raise ValueError(f"event type {model.ce_type} registered twice")
    EVENT_TYPES[model.ce_type] = model
    return model


def model_for(ce_type: str) -> type[Event]:
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {ce_type!r}") from None


def parse_event(ce_type: str, data: Any) -> Event:
    """The event of ``data``, validated as a producer must: no field the model lacks."""
    return _validated(ce_type, data, "forbid")


def read_event(ce_type: str, data: Any) -> Event:
    """The event of ``data`` as a consumer reads it: the contract evolves by adding fields, and
    a producer deployed before its consumers must not break them, so the fields this code does
    not know are ignored (everything else is validated as strictly as ``parse_event``)."""
    return _validated(ce_type, data, "ignore")


def _validated(ce_type: str, data: Any, extra: Literal["forbid", "ignore"]) -> Event:
    try:
        return model_for(ce_type).model_validate(data, extra=extra)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidEventData(f"{ce_type} data invalid: {problems}") from None


def json_schema(model: type[Event]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$id"] = f"urn:chs:event:{model.ce_type}"
    return schema
