"""``python -m chs_chronic api|relay|consume|expire``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8104);
- ``relay``: publishes the outbox (``chs.chronic.events``);
- ``consume``: auto-certification from settlements (``chronic-settlements`` on
  ``chs.reimbursement.events``) and, beside it, the expiry job (``chronic-expiry``) every
  ``CHS_EXPIRY_INTERVAL_SECONDS``; several instances may run;
- ``expire``: the expiry job once, then exit (for a cron job).
"""

import asyncio

import asyncpg

from chs_chronic.expiry import JOB_NAME, expire_due
from chs_chronic.settings import ChronicSettings
from chs_events.runtime import pool_worker, run_service
from chs_events.settings import PlatformSettings

PACKAGE = "chs_chronic"


async def expire_once(pool: asyncpg.Pool, settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, ChronicSettings)
    await expire_due(pool, settings)  # until fewer than a batch are left to end


if __name__ == "__main__":
    run_service(
        PACKAGE,
        ChronicSettings(),
        app="chs_chronic.api:create_app",
        subscriptions="chs_chronic.consumers:SUBSCRIPTIONS",
        beside_consumers={JOB_NAME: expire_due},
        workers={"expire": pool_worker(PACKAGE, expire_once, max_size=1)},
    )
