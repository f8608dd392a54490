"""``python -m chs_maternity api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8107);
- ``relay``: publishes the outbox (``chs.maternity.events``);
- ``consume``: the enrollment read model with the staff's contribution bases
  (``maternity-enrollments`` on ``chs.enrollment.events``) and the allowance without
  application from settlements (``maternity-settlements`` on ``chs.reimbursement.events``);
  several instances may run.
"""

from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_maternity.api import create_app
from chs_maternity.consumers import (
    ENROLLMENTS_CONSUMER,
    ENROLLMENTS_HANDLERS,
    ENROLLMENTS_TOPICS,
    SETTLEMENTS_CONSUMER,
    SETTLEMENTS_HANDLERS,
    SETTLEMENTS_TOPICS,
)
from chs_maternity.settings import MaternitySettings

PACKAGE = "chs_maternity"
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS),
    Subscription(SETTLEMENTS_CONSUMER, SETTLEMENTS_TOPICS, SETTLEMENTS_HANDLERS),
]

if __name__ == "__main__":
    main(
        PACKAGE,
        MaternitySettings(),
        app=create_app,
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
        },
    )
