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

from chs_events.runtime import pool_worker, run_service
from chs_events.settings import PlatformSettings
from chs_notification.dispatch import Dispatcher
from chs_notification.local_gateway import LocalGateway
from chs_notification.settings import NotificationSettings

PACKAGE = "chs_notification"


def local_gateway(pool: asyncpg.Pool, settings: NotificationSettings) -> LocalGateway:
    return LocalGateway(
        pool,
        failure_rate=settings.gateway_failure_rate,
        undelivered_rate=settings.gateway_undelivered_rate,
        rng=random.Random(settings.gateway_seed),
    )


async def dispatch(pool: asyncpg.Pool, settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, NotificationSettings)
    await Dispatcher(pool, local_gateway(pool, settings), settings).run(stop)


if __name__ == "__main__":
    run_service(
        PACKAGE,
        NotificationSettings(),
        app="chs_notification.api:create_app",
        subscriptions="chs_notification.consumers:SUBSCRIPTIONS",
        workers={"dispatch": pool_worker(PACKAGE, dispatch)},
    )
