"""``python -m chs_reimbursement api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8108);
- ``relay``: publishes the outbox (``chs.reimbursement.events``);
- ``consume``: the enrollment and remote-care filing read models the audits read
  (``reimbursement-enrollments``, ``reimbursement-filings``); several instances may run.
"""

from chs_events.runtime import run_service
from chs_reimbursement.settings import ReimbursementSettings

if __name__ == "__main__":
    run_service(
        "chs_reimbursement",
        ReimbursementSettings(),
        app="chs_reimbursement.api:create_app",
        subscriptions="chs_reimbursement.consumers:SUBSCRIPTIONS",
    )
