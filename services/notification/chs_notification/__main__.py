"""``python -m chs_notification api|relay|consume|dispatch``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8102);
- ``relay``: publishes the outbox (``chs.notices.status``);
- ``consume``: both consumers in one process, the contact directory
  (``notification-directory`` on ``chs.enrollment.events``) and the notice requests
  (``notification-requests`` on ``chs.notices.requests``);
- ``dispatch``: sends queued messages through the gateway and applies delivery receipts.
"""
import asyncio
import random

import asyncpg

from chs_events.consumer import ConsumerRunner
from chs_events.db import open_service_database
from chs_events.runtime import main, relay_worker
from chs_events.settings import PlatformSettings

from chs_notification.api import create_app
from chs_notification.consumers import (
    DIRECTORY_CONSUMER,
    DIRECTORY_HANDLERS,
    DIRECTORY_TOPICS,
    REQUESTS_CONSUMER,
    REQUESTS_HANDLERS,
    REQUESTS_TOPICS,
)
from chs_notification.dispatch import Dispatcher
from chs_notification.local_gateway import LocalGateway
from chs_notification.settings import NotificationSettings

PACKAGE = "chs_notification"


def consumers(pool: asyncpg.Pool, settings: PlatformSettings) -> list[ConsumerRunner]:
    return [
        ConsumerRunner(name=DIRECTORY_CONSUMER, topics=DIRECTORY_TOPICS,
                       handlers=DIRECTORY_HANDLERS, pool=pool, settings=settings),
        ConsumerRunner(name=REQUESTS_CONSUMER, topics=REQUESTS_TOPICS,
                       handlers=REQUESTS_HANDLERS, pool=pool, settings=settings),
    ]


async def run_together(runners: list[ConsumerRunner], stop: asyncio.Event) -> None:
    """Run the consumers until ``stop``; if one fails, stop the others and re-raise."""
    tasks = [asyncio.create_task(runner.run(stop), name=runner.name) for runner in runners]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()
    finally:
        stop.set()  # the others finish their batch and leave
        pending = [task for task in tasks if not task.done()]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=10)
            for task in still_running:
                task.cancel()


async def consume(settings: PlatformSettings, stop: asyncio.Event) -> None:
    pool = await open_service_database(settings.database_url, settings.database_name, PACKAGE)
    try:
        await run_together(consumers(pool, settings), stop)
    finally:
        await pool.close()


def local_gateway(pool: asyncpg.Pool, settings: NotificationSettings) -> LocalGateway:
    return LocalGateway(pool, failure_rate=settings.gateway_failure_rate,
                        undelivered_rate=settings.gateway_undelivered_rate,
                        rng=random.Random(settings.gateway_seed))


async def dispatch(settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, NotificationSettings)
    pool = await open_service_database(settings.database_url, settings.database_name, PACKAGE)
    try:
        await Dispatcher(pool, local_gateway(pool, settings), settings).run(stop)
    finally:
        await pool.close()


if __name__ == "__main__":
    main(NotificationSettings(), app=create_app,
         workers={"relay": relay_worker(PACKAGE), "consume": consume, "dispatch": dispatch})
