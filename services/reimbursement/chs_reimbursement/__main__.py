"""``python -m chs_reimbursement api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8108);
- ``relay``: publishes the outbox (``chs.reimbursement.events``);
- ``consume``: the enrollment and remote-care filing read models the audits read
  (``reimbursement-enrollments``, ``reimbursement-filings``); several instances may run.
"""

from chs_events.consumer import Subscription
from chs_events.runtime import consumer_worker, main, relay_worker
from chs_reimbursement.api import create_app
from chs_reimbursement.consumers import (
    ENROLLMENTS_CONSUMER,
    ENROLLMENTS_HANDLERS,
    ENROLLMENTS_TOPICS,
    FILINGS_CONSUMER,
    FILINGS_HANDLERS,
    FILINGS_TOPICS,
)
from chs_reimbursement.settings import ReimbursementSettings

PACKAGE = "chs_reimbursement"
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS),
    Subscription(FILINGS_CONSUMER, FILINGS_TOPICS, FILINGS_HANDLERS),
]

if __name__ == "__main__":
    main(
        PACKAGE,
        ReimbursementSettings(),
        app=create_app,  # main is not generic in its settings
        workers={
            "relay": relay_worker(PACKAGE),
            "consume": consumer_worker(PACKAGE, SUBSCRIPTIONS),
        },
    )
