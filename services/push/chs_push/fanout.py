"""The campaigns' fan-out, a task of push's worker (``python -m chs_push worker``).

Each round it starts the published campaigns whose time has come (``send_at``; those without
one are started by the consumer of ``CampaignPublished`` already), then runs the running ones
a page at a time, each page its own transaction (``handlers.handle_fan_out_page``: the page's
targets, their ``NoticeRequested`` in the outbox and the cursor, together). The campaigns take
turns page by page, and one pace (``CHS_PUSH_FANOUT_PER_SECOND``) holds over all of them: the
worker never requests more notices a second than the gateway's rate. A crash loses at most the
page in flight (rolled back): the next round resumes after the cursor, and a page written
twice (two workers) writes nothing the second time. A cancel takes the campaign's lock between
two pages; the next page sees it and stops.

The pace is per worker process: with several push workers, divide the rate among them.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import asyncpg

from chs_events.clock import now
from chs_events.consumer import DATABASE_UNAVAILABLE
from chs_events.db import connect
from chs_events.settings import PlatformSettings
from chs_events.unit_of_work import UnitOfWork
from chs_push import handlers, repository
from chs_push.commands import FanOutPage, StartCampaign
from chs_push.domain import Pace
from chs_push.settings import PushSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """A round's pages (one per running campaign) and the notices they requested."""

    pages: int
    notices: int

    def __bool__(self) -> bool:
        return self.pages > 0


class FanOut:
    """Rounds of the fan-out on ``pool``; ``run(stop)`` until stopped."""

    def __init__(self, pool: asyncpg.Pool, settings: PushSettings) -> None:
        self.pool = pool
        self.settings = settings
        self.pace = Pace(settings.push_fanout_per_second)
        self.page_size = self.pace.page_size(settings.fanout_page_size)
        self._began = time.monotonic()
        self._written = 0  # notices since ``_began`` (the pace's window; reset when idle)
        self._wake = asyncio.Event()

    def _uow(self, conn: asyncpg.Connection, campaign_id: str) -> UnitOfWork:
        return UnitOfWork(conn, source=self.settings.ce_source, correlation_id=campaign_id)

    async def start_due(self) -> int:
        """Start the published campaigns whose time has come; how many."""
        started = 0
        async with self.pool.acquire() as conn:
            for campaign_id in await repository.due_campaigns(conn, now()):
                uow = self._uow(conn, campaign_id)
                if await handlers.handle_start(uow, StartCampaign(campaign_id)) is not None:
                    started += 1
        return started

    async def round(self, stop: asyncio.Event | None = None) -> Round:
        """One page of each running campaign, at the pace."""
        await self.start_due()
        pages = written = 0
        async with self.pool.acquire() as conn:
            for campaign_id in await repository.running_campaigns(conn):
                if stop is not None and stop.is_set():
                    break
                await self._paced(stop)
                page = FanOutPage(campaign_id, self.page_size)
                count = await handlers.handle_fan_out_page(self._uow(conn, campaign_id), page)
                self._written += count
                written += count
                pages += 1
        return Round(pages, written)

    async def _paced(self, stop: asyncio.Event | None) -> None:
        wait = self.pace.wait(self._written, time.monotonic() - self._began)
        if wait > 0:
            if stop is None:
                await asyncio.sleep(wait)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)

    def _idle(self) -> None:
        self._began, self._written = time.monotonic(), 0

    async def run(self, stop: asyncio.Event) -> None:
        listener = await self._listen()
        log.info(
            "fan-out started",
            extra={"per_second": self.pace.per_second, "page_size": self.page_size},
        )
        try:
            while not stop.is_set():
                try:
                    if await self.round(stop):
                        continue  # campaigns running: no wait but the pace's
                except DATABASE_UNAVAILABLE as error:
                    log.warning("fan-out round failed; retrying", extra={"error": repr(error)})
                self._idle()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        _first(stop.wait(), self._wake.wait()), self.settings.fanout_poll_seconds
                    )
        finally:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _listen(self) -> asyncpg.Connection:
        conn = await connect(self.settings.database_dsn, application_name="push-fanout")
        await conn.add_listener(repository.WAKE_CHANNEL, lambda *_: self._wake.set())
        return conn


async def _first(*waits: object) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def run_fanout(pool: asyncpg.Pool, settings: PlatformSettings, stop: asyncio.Event) -> None:
    """The worker's fan-out task (``runtime.pool_worker``)."""
    assert isinstance(settings, PushSettings)
    await FanOut(pool, settings).run(stop)
