"""A unit of work: a command's (or a consumed event's) change and the events announcing it
commit together.

    async with uow:                     # built by the API (UnitOfWorkDep) or the consumer runner
        ...change the service's tables (lock the aggregate first, db.lock_person)...
        await uow.record(SomethingHappened(...))

The events go to the outbox in the same transaction, so none is lost if the process dies after
the commit and none is published for a rolled-back change. Their ``source`` is the service's
(``PlatformSettings.ce_source``); their correlation id is the request's (``X-Request-Id``) or,
for a consumed event, that event's, whose id becomes their causation id. A unique violation can
only come from a concurrent request (the rules were checked under the aggregate's lock): it
becomes a ``Conflict``.
"""

from collections.abc import Sequence
from types import TracebackType

import asyncpg

from chs_events import outbox
from chs_events.envelope import Envelope
from chs_events.errors import Conflict
from chs_events.events.base import Event


class UnitOfWork:
    def __init__(
        self,
        conn: asyncpg.Connection,
        *,
        source: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> None:
        self.conn = conn
        self.source = source
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._transactions: list[asyncpg.transaction.Transaction] = []

    @classmethod
    def caused_by(
        cls, conn: asyncpg.Connection, envelope: Envelope, *, source: str
    ) -> "UnitOfWork":
        """The unit of work of a consumed event: what it records is caused by that event."""
        return cls(
            conn,
            source=source,
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
        )

    async def __aenter__(self) -> "UnitOfWork":
        # Entered again (a consumer's unit of work passed on to a command handler), it nests:
        # the inner part is a savepoint of the outer transaction.
        transaction = self.conn.transaction()
        await transaction.start()
        self._transactions.append(transaction)
        return self

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction = self._transactions.pop()
        if error is None:
            try:
                await transaction.commit()  # a deferred constraint fails here
            except asyncpg.UniqueViolationError:
                raise _concurrent_change() from None
            return
        await transaction.rollback()
        if isinstance(error, asyncpg.UniqueViolationError):
            raise _concurrent_change() from None

    def envelope(self, event: Event) -> Envelope:
        """The event as this unit of work records it (its source, correlation and causation)."""
        return Envelope(
            event,
            source=self.source,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )

    async def record(self, *events: Event) -> None:
        for event in events:
            await outbox.record(self.conn, self.envelope(event))

    async def record_with(self, changes: Sequence[outbox.Change], *events: Event) -> bool:
        """``changes`` (statements with their parameters; the first returns the rows it wrote)
        and, when the first wrote a row, ``events``, in one round trip (``outbox.record_with``);
        False when it wrote none (no event is recorded)."""
        return await outbox.record_with(
            self.conn, changes, [self.envelope(event) for event in events]
        )


def _concurrent_change() -> Conflict:
    return Conflict("changed by a concurrent request; retry")
