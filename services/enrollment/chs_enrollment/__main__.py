"""``python -m chs_enrollment api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8101);
- ``relay``: publishes the outbox (``chs.enrollment.events``);
- ``consume``: completed transfers (``enrollment-transfers`` on ``chs.transfer.events``) move
  an enrollment's pooling region.
"""

from chs_enrollment.api import create_app
from chs_enrollment.consumers import TRANSFERS_CONSUMER, TRANSFERS_HANDLERS, TRANSFERS_TOPICS
from chs_enrollment.settings import EnrollmentSettings
from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker

PACKAGE = "chs_enrollment"
SUBSCRIPTIONS = [Subscription(TRANSFERS_CONSUMER, TRANSFERS_TOPICS, TRANSFERS_HANDLERS)]

if __name__ == "__main__":
    main(
        PACKAGE,
        EnrollmentSettings(),
        app=create_app,
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
        },
    )
