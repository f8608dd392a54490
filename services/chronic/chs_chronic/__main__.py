"""``python -m chs_chronic api|relay|consume|expire``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8104);
- ``relay``: publishes the outbox (``chs.chronic.events``);
- ``consume``: auto-certification from settlements (``chronic-settlements`` on
  ``chs.reimbursement.events``) and, beside it, the expiry job (``expiry``) every
  ``CHS_EXPIRY_INTERVAL_SECONDS``; several instances may run;
- ``expire``: the expiry job once, then exit (for a cron job).
"""

import asyncio

from chs_chronic.api import create_app
from chs_chronic.consumers import (
    SETTLEMENTS_CONSUMER,
    SETTLEMENTS_HANDLERS,
    SETTLEMENTS_TOPICS,
)
from chs_chronic.expiry import JOB_NAME, expire_due
from chs_chronic.settings import ChronicSettings
from chs_events.consumer import Subscription
from chs_events.db import open_service_database
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_events.scheduled import run_periodically
from chs_events.settings import PlatformSettings

PACKAGE = "chs_chronic"
SUBSCRIPTIONS = [Subscription(SETTLEMENTS_CONSUMER, SETTLEMENTS_TOPICS, SETTLEMENTS_HANDLERS)]
_consume_settlements = consumer_worker(PACKAGE, SUBSCRIPTIONS)


async def consume(settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, ChronicSettings)
    pool = await open_service_database(
        settings.database_url, settings.database_name, PACKAGE, max_size=1
    )
    expiry = asyncio.create_task(run_periodically(JOB_NAME, expire_due, pool, settings, stop))
    try:
        await _consume_settlements(settings, stop)
    finally:
        stop.set()
        await expiry
        await pool.close()


async def expire(settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, ChronicSettings)
    pool = await open_service_database(
        settings.database_url, settings.database_name, PACKAGE, max_size=1
    )
    try:
        await expire_due(pool, settings)  # until fewer than a batch are left to end
    finally:
        await pool.close()


if __name__ == "__main__":
    main(
        PACKAGE,
        ChronicSettings(),
        app=create_app,
        workers={"relay": relay_worker(PACKAGE), "consume": consume, "expire": expire},
    )
