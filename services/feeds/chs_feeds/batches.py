"""A batch upload, read as it streams in: bytes → records (``parsing``) → reports or rejected
lines (``domain``'s row rules, then the caller's region) → a chunk of ``batch_chunk_lines``
lines committed at a time, each chunk in a unit of work of its own on a connection taken for it
alone (a slow upload holds no connection and no transaction between chunks).

So a batch with bad lines publishes its good ones and keeps a line's outcome for each; memory
holds one chunk, whatever the size of the body. The batch row is written with the first chunk
(a body refused whole, an unknown format or one without records, leaves nothing). An upload that
grows past the bounds (bytes, lines) or is cut off stops there: what was read is kept and
published, and the batch is ``incomplete`` with the reason.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import uuid6
from starlette.requests import ClientDisconnect

from chs_events.db import POOL_ACQUIRE_TIMEOUT_SECONDS
from chs_events.errors import InvalidField
from chs_events.problems import ServiceUnavailable
from chs_events.unit_of_work import UnitOfWork
from chs_feeds import domain, handlers
from chs_feeds.commands import CloseBatch, OpenBatch, RecordAccidents, RecordDeaths
from chs_feeds.model import (
    ACCIDENTS,
    DEATHS,
    AccidentReport,
    Batch,
    DeathReport,
    FeedKind,
    LineOutcome,
    rejected,
)
from chs_feeds.parsing import Format, Record, RecordReader
from chs_feeds.settings import FeedsSettings

log = logging.getLogger(__name__)

Report = DeathReport | AccidentReport


@dataclass(frozen=True)
class Feed:
    """One kind of external record: its fields, its row rule and its chunk's handler."""

    kind: FeedKind
    fields: tuple[str, ...]
    report: Callable[..., Report]
    record: Callable[
        [UnitOfWork, tuple[Any, ...], tuple[LineOutcome, ...], str | None],
        Awaitable[list[LineOutcome]],
    ]


async def _record_deaths(
    uow: UnitOfWork, reports: tuple[Any, ...], refused: tuple[LineOutcome, ...], batch: str | None
) -> list[LineOutcome]:
    return await handlers.handle_record_deaths(uow, RecordDeaths(reports, refused, batch))


async def _record_accidents(
    uow: UnitOfWork, reports: tuple[Any, ...], refused: tuple[LineOutcome, ...], batch: str | None
) -> list[LineOutcome]:
    return await handlers.handle_record_accidents(uow, RecordAccidents(reports, refused, batch))


DEATH_RECORDS = Feed(DEATHS, domain.DEATH_FIELDS, domain.death_report, _record_deaths)
ACCIDENT_CASES = Feed(ACCIDENTS, domain.ACCIDENT_FIELDS, domain.accident_report, _record_accidents)


def outside_region(code: str) -> str:
    return f"region_code: {code} is outside the region this caller serves"


def validated(
    feed: Feed,
    records: Sequence[Record],
    *,
    today: date,
    secret: bytes,
    serves: Callable[[str], bool],
) -> tuple[tuple[Report, ...], tuple[LineOutcome, ...]]:
    """The records' reports, and the lines refused: unreadable, against a row rule, or of a
    region the caller does not serve."""
    reports: list[Report] = []
    refused: list[LineOutcome] = []
    for record in records:
        if record.fields is None:
            refused.append(rejected(record.line, record.error or "unreadable"))
            continue
        try:
            report = feed.report(record.fields, today=today, secret=secret, line=record.line)
        except InvalidField as error:
            masked = domain.masked_id_number(record.fields)
            refused.append(rejected(record.line, domain.refusal(error), masked))
            continue
        if not serves(report.region_code):
            reason = outside_region(report.region_code)
            refused.append(rejected(record.line, reason, report.id_number))
            continue
        reports.append(report)
    return tuple(reports), tuple(refused)


@asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection (``chs_events.service.Connection``'s wait), given back at the end."""
    try:
        conn = await pool.acquire(timeout=POOL_ACQUIRE_TIMEOUT_SECONDS)
    except TimeoutError:
        raise ServiceUnavailable("Every database connection is busy; try again shortly.") from None
    try:
        yield conn
    finally:
        await pool.release(conn)


@asynccontextmanager
async def unit_of_work(
    pool: asyncpg.Pool, settings: FeedsSettings, correlation_id: str
) -> AsyncIterator[UnitOfWork]:
    """A unit of work on a connection of its own, given back when it ends."""
    async with connection(pool) as conn:
        yield UnitOfWork(conn, source=settings.ce_source, correlation_id=correlation_id)


class TooLarge(Exception):
    """The body is over a bound of the batch; ``batch`` the batch of what was read before."""

    def __init__(self, reason: str, batch: Batch | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.batch = batch


class NoRecords(ValueError):
    pass


class Upload:
    """One batch body of ``feed`` in ``format`` by ``uploaded_by``, read from ``chunks``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: FeedsSettings,
        feed: Feed,
        format: Format,
        *,
        uploaded_by: str,
        serves: Callable[[str], bool],
        today: date,
        correlation_id: str,
    ) -> None:
        self._pool, self._settings, self._feed, self._format = pool, settings, feed, format
        self._uploaded_by, self._serves, self._today = uploaded_by, serves, today
        self._correlation_id = correlation_id
        self._batch_id: str | None = None
        self._lines = 0
        self._last_line = 0

    async def run(self, chunks: AsyncIterator[bytes]) -> Batch:
        """Read, check and commit the body; the closed batch. ``TooLarge`` when it stopped
        over a bound (the batch named in it holds what was read), ``NoRecords`` when the body
        held none (nothing kept); ``parsing.UnknownFormat`` before anything was kept."""
        settings = self._settings
        reader = RecordReader(
            self._format, self._feed.fields, max_line_bytes=settings.batch_max_line_bytes
        )
        pending: list[Record] = []
        size, stopped, cut_off = 0, None, None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > settings.batch_max_bytes:
                    stopped = (
                        f"over {settings.batch_max_bytes} bytes: "
                        f"read up to line {reader.lines_read}"
                    )
                    break
                pending.extend(reader.feed(chunk))
                pending, stopped = await self._commit_full_chunks(pending)
                if stopped:
                    break
            else:
                pending.extend(reader.end())
        except ClientDisconnect:  # no one to answer: what was read is kept, the batch says so
            cut_off = f"the upload was cut off after line {reader.lines_read}"
        pending, over = await self._commit_full_chunks(pending, everything=True)
        stopped = stopped or over
        if self._batch_id is None:
            if stopped:
                raise TooLarge(stopped)
            raise NoRecords("the body holds no record")
        async with unit_of_work(self._pool, settings, self._correlation_id) as uow:
            command = CloseBatch(self._batch_id, stopped or cut_off)
            batch = await handlers.handle_close_batch(uow, command)
        log.info(
            "batch %s: %s lines, %s accepted, %s duplicates, %s rejected%s",
            batch.batch_id,
            batch.lines,
            batch.accepted,
            batch.duplicates,
            batch.rejected,
            f" ({batch.stopped_reason})" if batch.stopped_reason else "",
            extra={"batch_id": batch.batch_id, "feed": batch.kind, "status": batch.status},
        )
        if stopped:
            raise TooLarge(stopped, batch)
        return batch

    async def _commit_full_chunks(
        self, pending: list[Record], *, everything: bool = False
    ) -> tuple[list[Record], str | None]:
        """Commit the pending records a chunk at a time (the last, short one too with
        ``everything``); the records left, and why reading must stop (over the line bound)."""
        size, limit = self._settings.batch_chunk_lines, self._settings.batch_max_lines
        while len(pending) >= size or (everything and pending):
            chunk, pending = pending[:size], pending[size:]
            room = limit - self._lines
            await self._commit(chunk[:room])
            if len(chunk) > room:
                return [], f"over {limit} lines: read up to line {self._last_line}"
        return pending, None

    async def _commit(self, records: list[Record]) -> None:
        if not records:
            return
        reports, refused = validated(
            self._feed,
            records,
            today=self._today,
            secret=self._settings.person_id_secret.get_secret_value().encode(),
            serves=self._serves,
        )
        batch_id = self._batch_id or str(uuid6.uuid7())
        async with unit_of_work(self._pool, self._settings, self._correlation_id) as uow, uow:
            if self._batch_id is None:  # the batch is kept with its first lines
                opened = OpenBatch(batch_id, self._feed.kind, self._format, self._uploaded_by)
                await handlers.handle_open_batch(uow, opened)
            await self._feed.record(uow, reports, refused, batch_id)
        self._batch_id = batch_id
        self._lines += len(records)
        self._last_line = records[-1].line
