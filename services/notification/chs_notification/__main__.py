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

from chs_events.consumer import Subscription
from chs_events.db import open_service_database
from chs_events.runtime import consumer_worker, main, relay_worker
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
SUBSCRIPTIONS = [
    Subscription(DIRECTORY_CONSUMER, DIRECTORY_TOPICS, DIRECTORY_HANDLERS),
    Subscription(REQUESTS_CONSUMER, REQUESTS_TOPICS, REQUESTS_HANDLERS),
]


def local_gateway(pool: asyncpg.Pool, settings: NotificationSettings) -> LocalGateway:
    return LocalGateway(
        pool,
        failure_rate=settings.gateway_failure_rate,
        undelivered_rate=settings.gateway_undelivered_rate,
        rng=random.Random(settings.gateway_seed),
    )


async def dispatch(settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, NotificationSettings)
    pool = await open_service_database(settings.database_url, settings.database_name, PACKAGE)
    try:
        await Dispatcher(pool, local_gateway(pool, settings), settings).run(stop)
    finally:
        await pool.close()


if __name__ == "__main__":
    main(
        PACKAGE,
        NotificationSettings(),
        app=create_app,
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
            "dispatch": dispatch,
        },
    )
