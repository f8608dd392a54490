"""``python -m chs_maternity api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8107);
- ``relay``: publishes the outbox (``chs.maternity.events``);
- ``consume``: the enrollment read model with the staff's contribution bases
  (``maternity-enrollments`` on ``chs.enrollment.events``) and the allowance without
  application from settlements (``maternity-settlements`` on ``chs.reimbursement.events``);
  several instances may run.
"""

from chs_events.runtime import run_service
from chs_maternity.settings import MaternitySettings

if __name__ == "__main__":
    run_service(
        "chs_maternity",
        MaternitySettings(),
        app="chs_maternity.api:create_app",
        subscriptions="chs_maternity.consumers:SUBSCRIPTIONS",
    )
