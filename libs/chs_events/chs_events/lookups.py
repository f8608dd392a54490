"""One kind of aggregate found by its key: the repository's loader and the ``NotFound`` a key
that names nothing raises, declared once beside the loader and used both by the routes (a read:
the aggregate or 404) and by the handlers (a change: the aggregate under its person's lock)::

    applications = Lookup("application", get_application, domain.ApplicationNotFound)

    application = await repository.applications.found(conn, application_id)  # a route
    current = await repository.applications.for_change(conn, command.application_id)  # a handler
"""

from dataclasses import dataclass
from typing import Generic

import asyncpg

from chs_events.errors import NotFound
from chs_events.locks import Aggregate, Loader, load_for_change


@dataclass(frozen=True)
class Lookup(Generic[Aggregate]):
    """The aggregates ``load`` reads by key; a key that names nothing is
    ``missing("no <name> <key>")``."""

    name: str
    load: Loader[Aggregate]
    missing: type[NotFound] = NotFound

    def not_found(self, key: str) -> NotFound:
        return self.missing(f"no {self.name} {key}")

    async def found(self, conn: asyncpg.Connection, key: str) -> Aggregate:
        """The aggregate ``key`` as it is (a route's read), else ``not_found(key)`` (404)."""
        aggregate = await self.load(conn, key)
        if aggregate is None:
            raise self.not_found(key)
        return aggregate

    async def for_change(self, conn: asyncpg.Connection, key: str) -> Aggregate:
        """The aggregate ``key`` under its person's lock, read again ``for update``
        (``locks.load_for_change``), else ``not_found(key)``."""
        return await load_for_change(conn, self.load, key, missing=self.not_found)
