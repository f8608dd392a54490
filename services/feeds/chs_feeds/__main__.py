"""``python -m chs_feeds api|relay|consume|worker``.

- ``api``: the HTTP API (port ``CHS_HTTP_PORT``, default 8109);
- ``relay``: publishes the outbox (``chs.feeds.deaths``, ``chs.feeds.accidents``);
- ``consume``: nothing to consume (``consumers.SUBSCRIPTIONS`` is empty): waits for the stop
  signal;
- ``worker``: what the Procfile runs, the relay alone (a service that consumes nothing).
"""

from chs_events.runtime import run_service
from chs_feeds.settings import FeedsSettings

if __name__ == "__main__":
    run_service(
        "chs_feeds",
        FeedsSettings(),
        app="chs_feeds.api:create_app",
        subscriptions="chs_feeds.consumers:SUBSCRIPTIONS",
    )
