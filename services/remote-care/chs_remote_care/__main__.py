"""``python -m chs_remote_care api|relay|consume|expire``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8103);
- ``relay``: publishes the outbox (``chs.remote-care.events``);
- ``consume``: the enrollment read model (``chs_events.read_models.enrollments``; consumer
  ``remote-care-enrollments`` on ``chs.enrollment.events``);
- ``expire``: every ``CHS_EXPIRE_INTERVAL_SECONDS`` expires the temporary filings past their
  validity, in batches locked with ``for update skip locked``, so several instances may run.
"""
import asyncio
import logging

from chs_events.clock import today
from chs_events.consumer import DATABASE_UNAVAILABLE, Subscription
from chs_events.db import open_service_database
from chs_events.read_models import enrollments
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_events.settings import PlatformSettings

from chs_remote_care import handlers
from chs_remote_care.api import create_app
from chs_remote_care.settings import RemoteCareSettings

PACKAGE = "chs_remote_care"
ENROLLMENTS_CONSUMER = "remote-care-enrollments"
SUBSCRIPTIONS = [Subscription(ENROLLMENTS_CONSUMER, enrollments.TOPICS,
                              enrollments.SUBSCRIPTION_HANDLERS)]

log = logging.getLogger(__name__)


async def expire(settings: PlatformSettings, stop: asyncio.Event) -> None:
    assert isinstance(settings, RemoteCareSettings)
    pool = await open_service_database(settings.database_url, settings.database_name, PACKAGE)
    try:
        while not stop.is_set():
            try:
                expired = await handlers.expire_due(pool, today(),
                                                    batch_size=settings.expire_batch_size)
                if expired:
                    log.info("temporary filings expired", extra={"count": expired})
            except DATABASE_UNAVAILABLE as error:
                log.warning("expiry run failed; retrying", extra={"error": repr(error)})
            try:
                await asyncio.wait_for(stop.wait(), settings.expire_interval_seconds)
            except TimeoutError:
                pass
    finally:
        await pool.close()


if __name__ == "__main__":
    main(PACKAGE, RemoteCareSettings(), app=create_app,
         workers={"relay": relay_worker(PACKAGE), "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
                  "expire": expire})
