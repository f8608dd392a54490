"""``python -m chs_enrollment api|relay|consume``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8101);
- ``relay``: publishes the outbox (``chs.enrollment.events``);
- ``consume``: completed transfers (``enrollment-transfers`` on ``chs.transfer.events``) move
  an enrollment's pooling region; verified deaths (``enrollment-deaths`` on
  ``chs.feeds.deaths``) end the person's enrollments as of the date of death.
"""

from chs_enrollment.settings import EnrollmentSettings
from chs_events.runtime import run_service

if __name__ == "__main__":
    run_service(
        "chs_enrollment",
        EnrollmentSettings(),
        app="chs_enrollment.api:create_app",
        subscriptions="chs_enrollment.consumers:SUBSCRIPTIONS",
    )
