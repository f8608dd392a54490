"""``python -m chs_transfer api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8105);
- ``relay``: publishes the outbox (``chs.transfer.events``);
- ``consume``: the read model of ``chs.enrollment.events`` (``transfer-enrollments``).
"""

from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_transfer.api import create_app
from chs_transfer.consumers import ENROLLMENTS_CONSUMER, ENROLLMENTS_HANDLERS, ENROLLMENTS_TOPICS
from chs_transfer.settings import TransferSettings

PACKAGE = "chs_transfer"
SUBSCRIPTIONS = [Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS)]

if __name__ == "__main__":
    main(
        PACKAGE,
        TransferSettings(),
        app=create_app,
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
        },
    )
