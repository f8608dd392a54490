"""``python -m chs_push api|relay|worker|processor``.

- ``api``: the segment preview API (port ``CHS_HTTP_PORT``, default 8111);
- ``relay``, ``worker``: the outbox relay (nothing is recorded in it yet: the campaigns'
  fan-out will be; the Procfile runs no push worker until then);
- ``processor``: the push processor (faust, ``chs_push.app``): the events a profile is folded
  from → the profiles table (``CHS_DATA_DIR``, ``CHS_STORE``: rocksdb or memory) and its
  projection in push's database. faust runs its own event loop, so it is a process of its own.
"""

import sys

from chs_events.runtime import run_service
from chs_push.settings import PushSettings

if __name__ == "__main__":
    if sys.argv[1:] == ["processor"]:
        from chs_push.processor import run_processor

        run_processor(PushSettings())
    else:
        run_service(
            "chs_push",
            PushSettings(),
            app="chs_push.api:create_app",
            subscriptions="chs_push.consumers:SUBSCRIPTIONS",
        )
