"""Scheduled jobs: a job run every ``expiry_interval_seconds`` until the process is stopped.

A job takes the service's pool and settings and returns how many items it handled (logged when
some were). An outage of the service's database fails one run, not the process: the next run
tries again.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from chs_events.consumer import DATABASE_UNAVAILABLE
from chs_events.db import open_service_database
from chs_events.settings import ExpirySettings, PlatformSettings

log = logging.getLogger(__name__)

Job = Callable[[asyncpg.Pool, ExpirySettings], Awaitable[int]]


async def run_periodically(
    name: str, job: Job, pool: asyncpg.Pool, settings: ExpirySettings, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            handled = await job(pool, settings)
            if handled:
                log.info("scheduled job ran", extra={"job": name, "count": handled})
        except DATABASE_UNAVAILABLE as error:
            log.warning(
                "scheduled job failed; it runs again", extra={"job": name, "error": repr(error)}
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.expiry_interval_seconds)


def periodic_worker(
    service_package: str, name: str, job: Job
) -> Callable[[PlatformSettings, asyncio.Event], Awaitable[None]]:
    """A process running ``job`` periodically on a pool of its own."""

    async def worker(settings: PlatformSettings, stop: asyncio.Event) -> None:
        assert isinstance(settings, ExpirySettings)
        pool = await open_service_database(
            settings.database_url, settings.database_name, service_package, max_size=1
        )
        try:
            await run_periodically(name, job, pool, settings, stop)
        finally:
            await pool.close()

    return worker
