"""``python -m chs_remote_care api|relay|consume|expire``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8103);
- ``relay``: publishes the outbox (``chs.remote-care.events``);
- ``consume``: the enrollment read model (``chs_events.read_models.enrollments``; consumer
  ``remote-care-enrollments`` on ``chs.enrollment.events``);
- ``expire``: every ``CHS_EXPIRY_INTERVAL_SECONDS`` expires the temporary filings past their
  validity, in batches of ``CHS_EXPIRY_BATCH_SIZE`` locked with ``for update skip locked``, so
  several instances may run.
"""

from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_events.scheduled import periodic_worker
from chs_remote_care import handlers
from chs_remote_care.api import create_app
from chs_remote_care.consumers import (
    ENROLLMENTS_CONSUMER,
    ENROLLMENTS_HANDLERS,
    ENROLLMENTS_TOPICS,
)
from chs_remote_care.settings import RemoteCareSettings

PACKAGE = "chs_remote_care"
SUBSCRIPTIONS = [Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS)]

if __name__ == "__main__":
    main(
        PACKAGE,
        RemoteCareSettings(),
        app=create_app,
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
            "expire": periodic_worker(PACKAGE, "remote-care-expiry", handlers.expire_job),
        },
    )
