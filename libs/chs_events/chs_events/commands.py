"""Commands: what a caller asks a service to do, named in the imperative (``SettleBill``).

A command is a frozen dataclass deriving from ``Command``: the base makes every subclass one
(there is no decorator to write or to forget), so a command cannot change once it is built. Its
handler runs it in one unit of work (``chs_events.unit_of_work``), which also carries the
correlation id of the events the command causes, so a command holds only what the caller asked.
"""

from dataclasses import dataclass, fields
from typing import Any, Self

from typing_extensions import dataclass_transform

from chs_events.attributes import same_names


@dataclass_transform(frozen_default=True)
@dataclass(frozen=True)
class Command:
    """The base of every service's commands: a subclass is a frozen dataclass of its fields."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True)(cls)

    @classmethod
    def of(cls, *sources: object, **given: Any) -> Self:
        """The command of the ``given`` values and, for its other fields, the attributes of the
        same names of ``sources`` (the event a consumer turns into it, a request body).
        ``RequestNotice.of(event)``."""
        return cls(**same_names((f.name for f in fields(cls)), sources, given))
