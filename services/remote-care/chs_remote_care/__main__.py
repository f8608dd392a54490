"""``python -m chs_remote_care api|relay|consume|expire|worker``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8103);
- ``relay``: publishes the outbox (``chs.remote-care.events``);
- ``consume``: the enrollment read model (``chs_events.read_models.enrollments``; consumer
  ``remote-care-enrollments`` on ``chs.enrollment.events``) and the settled stays that end
  back-dating (consumer ``remote-care-settlements`` on ``chs.reimbursement.events``);
- ``expire``: every ``CHS_EXPIRY_INTERVAL_SECONDS`` expires the temporary filings past their
  validity, in batches of ``CHS_EXPIRY_BATCH_SIZE`` locked with ``for update skip locked``, so
  several instances may run;
- ``worker``: relay, consume and expire in one process (what the Procfile runs).
"""

from chs_events.runtime import run_service
from chs_events.scheduled import periodic_worker
from chs_remote_care import handlers
from chs_remote_care.settings import RemoteCareSettings

PACKAGE = "chs_remote_care"

if __name__ == "__main__":
    run_service(
        PACKAGE,
        RemoteCareSettings(),
        app="chs_remote_care.api:create_app",
        subscriptions="chs_remote_care.consumers:SUBSCRIPTIONS",
        workers={"expire": periodic_worker(PACKAGE, "remote-care-expiry", handlers.expire_job)},
        in_worker=("expire",),
    )
