"""``python -m chs_push api|relay|consume|fanout|worker|processor``.

- ``api``: segment preview and campaigns (port ``CHS_HTTP_PORT``, default 8111);
- ``relay``: publishes the outbox (the campaigns' events on ``chs.push.campaigns``, their
  notices on ``chs.notices.requests``);
- ``consume``: ``push-campaigns`` (a published campaign starts) and ``push-notice-status``
  (the campaigns' notices' statuses), ``chs_push.consumers``;
- ``fanout``: the campaigns' fan-out (``chs_push.fanout``), at ``CHS_PUSH_FANOUT_PER_SECOND``;
- ``worker``: the relay, the consumers and the fan-out in one process (what the Procfile runs);
- ``processor``: the push processor (faust, ``chs_push.app``): the events a profile is folded
  from → the profiles table (``CHS_DATA_DIR``, ``CHS_STORE``: rocksdb or memory) and its
  projection in push's database. faust runs its own event loop, so it is a process of its own.
"""

import sys

from chs_events.runtime import pool_worker, run_service
from chs_push.fanout import run_fanout
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
            workers={"fanout": pool_worker("chs_push", run_fanout, max_size=2)},
            in_worker=("fanout",),
        )
