"""The per-person lock every state change takes first, and the load → lock → re-read sequence.

A handler that changes something of a person holds the person's advisory lock until its
transaction ends, so one person's changes (and their outbox rows) commit one after the other,
across instances: the rules are checked against what the previous change committed.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import asyncpg

from chs_events.errors import NotFound


async def lock_person(conn: asyncpg.Connection, person_id: str) -> None:
    """Held until the transaction ends."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", person_id)


class OfPerson(Protocol):
    @property
    def person_id(self) -> str: ...


Aggregate = TypeVar("Aggregate", bound=OfPerson)
Loaded = TypeVar("Loaded", bound=OfPerson, covariant=True)


class Loader(Protocol[Loaded]):
    """A repository's ``get_x(conn, key, *, for_update=False)``."""

    def __call__(
        self, conn: asyncpg.Connection, key: str, /, *, for_update: bool = False
    ) -> Awaitable[Loaded | None]: ...


async def load_for_change(
    conn: asyncpg.Connection,
    load: Loader[Aggregate],
    key: str,
    *,
    missing: Callable[[str], NotFound],
) -> Aggregate:
    """The aggregate ``key`` as it is under its person's lock, in the caller's transaction:
    found (else ``missing(key)`` is raised), its person locked, then read again ``for update``
    (a change committed while the lock was awaited is seen)."""
    found = await load(conn, key)
    if found is None:
        raise missing(key)
    await lock_person(conn, found.person_id)
    current = await load(conn, key, for_update=True)
    if current is None:  # deleted while the lock was awaited
        raise missing(key)
    return current
