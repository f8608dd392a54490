"""Commands: what a caller asks a service to do, named in the imperative (``SettleBill``).

A command is a frozen dataclass deriving from ``Command``; its handler runs it in one unit of
work (``chs_events.unit_of_work``), which also carries the correlation id of the events the
command causes, so a command holds only what the caller asked.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """The base of every service's commands."""
