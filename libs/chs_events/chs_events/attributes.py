"""Values by name: what ``Event.of`` and ``Command.of`` build from an aggregate, a command, an
event or a request body, whose attributes share their names with the fields they fill."""

from collections.abc import Iterable, Mapping
from typing import Any


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
