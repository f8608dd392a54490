"""Commands: what a caller asks a service to do, named in the imperative (``SettleBill``).

A command is a frozen dataclass deriving from ``Command``: the base makes every subclass one
(there is no decorator to write or to forget), so a command cannot change once it is built. Its
handler runs it in one unit of work (``chs_events.unit_of_work``), which also carries the
correlation id of the events the command causes, so a command holds only what the caller asked.
"""

from dataclasses import Field, FrozenInstanceError, dataclass, fields
from typing import Any, ClassVar, NoReturn, Self

from typing_extensions import dataclass_transform

from chs_events.attributes import same_names


@dataclass_transform(frozen_default=True)
class Command:
    """The base of every service's commands: a subclass is a frozen dataclass of its fields.

    A subclass still decorated ``@dataclass(frozen=True)`` (as commands once were) is the same
    dataclass: the decorator finds the fields as declared and assigns nothing already there."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # each subclass's own

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {name: value for name, value in vars(cls).items() if isinstance(value, Field)}
        dataclass(frozen=True)(cls)
        # Frozen by the base's __setattr__ below, and the fields' declarations kept, so that a
        # decorator applied after the class statement processes the very same fields again.
        del cls.__setattr__, cls.__delattr__
        for name, declaration in declared.items():
            setattr(cls, name, declaration)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @classmethod
    def of(cls, *sources: object, **given: Any) -> Self:
        """The command of the ``given`` values and, for its other fields, the attributes of the
        same names of ``sources`` (the event a consumer turns into it, a request body).
        ``RequestNotice.of(event)``."""
        return cls(**same_names((f.name for f in fields(cls)), sources, given))
