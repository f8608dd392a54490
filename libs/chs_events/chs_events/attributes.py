"""Values by name: what ``Event.of``, ``Command.of`` and ``made_of`` (any dataclass) build from
an aggregate, a command, an event or a request body, whose attributes share their names with the
fields they fill."""

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar


def same_names(
    fields: Iterable[str], sources: tuple[object, ...], given: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``given`` values, and for every other of ``fields`` the attribute of that name of the
    first source that has one (a source may be None: a part that is absent). A field no source
    has is left out (its default applies, or the model refuses it as missing)."""
    values = dict(given)
    for name in fields:
        if name in values:
            continue
        for source in sources:
            if source is not None and hasattr(source, name):
                values[name] = getattr(source, name)
                break
    return values


Made = TypeVar("Made")


def made_of(kind: type[Made], *sources: object, **given: Any) -> Made:
    """The dataclass ``kind`` of the ``given`` values and, for its other fields, the attributes
    of the same names of ``sources``: ``made_of(Contribution, event)``."""
    return kind(**same_names((f.name for f in fields(kind)), sources, given))  # type: ignore[arg-type]
