"""A command's unit of work: its change and the events announcing it commit together.

    async with UnitOfWork(conn, source="/chs/enrollment", correlation_id=request_id) as uow:
        ...change the service's tables (lock the aggregate first)...
        await uow.record(SomethingHappened(...))

The events go to the outbox in the same transaction, so none is lost if the process dies after
the commit and none is published for a rolled-back change. A unique violation can only come from
a concurrent request (the rules were checked under the aggregate's lock): it becomes a 409.
"""
from types import TracebackType

import asyncpg

from chs_events import outbox
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.problems import Conflict


class UnitOfWork:
    def __init__(self, conn: asyncpg.Connection, *, source: str,
                 correlation_id: str | None = None) -> None:
        self.conn = conn
        self._source = source
        self._correlation_id = correlation_id
        self._transaction = conn.transaction()

    async def __aenter__(self) -> "UnitOfWork":
        await self._transaction.start()
        return self

    async def __aexit__(self, error_type: type[BaseException] | None,
                        error: BaseException | None, traceback: TracebackType | None) -> None:
        if error is None:
            try:
                await self._transaction.commit()  # a deferred constraint fails here
            except asyncpg.UniqueViolationError:
                raise _concurrent_change() from None
            return
        await self._transaction.rollback()
        if isinstance(error, asyncpg.UniqueViolationError):
            raise _concurrent_change() from None

    async def record(self, *events: Event) -> None:
        for event in events:
            await outbox.record(self.conn, Envelope(event, source=self._source,
                                                    correlation_id=self._correlation_id))


def _concurrent_change() -> Conflict:
    return Conflict("changed by a concurrent request; retry")
