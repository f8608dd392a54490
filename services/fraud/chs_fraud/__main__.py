"""``python -m chs_fraud api|relay|consume|worker|processor``.

- ``api``: the case-work HTTP API (port ``CHS_HTTP_PORT``, default 8110);
- ``relay``: publishes the outbox (``FraudSignalResolved`` on ``chs.fraud.signals``);
- ``consume``: the signals raised become cases (``fraud-cases`` on ``chs.fraud.signals``);
- ``worker``: the relay and the consumer in one process (what the Procfile runs);
- ``processor``: the fraud processor (faust, ``chs_fraud.app``): the feeds and the benefit
  events → ``chs.fraud.signals``, its tables in ``CHS_DATA_DIR`` (``CHS_STORE``: rocksdb or
  memory). faust runs its own event loop, so it is a process of its own.
"""

import sys

from chs_events.runtime import run_service
from chs_fraud.settings import FraudSettings

if __name__ == "__main__":
    if sys.argv[1:] == ["processor"]:
        from chs_fraud.processor import run_processor

        run_processor(FraudSettings())
    else:
        run_service(
            "chs_fraud",
            FraudSettings(),
            app="chs_fraud.api:create_app",
            subscriptions="chs_fraud.consumers:SUBSCRIPTIONS",
        )
