"""``python -m chs_push processor`` — run the push processor (faust) in this process.

SIGTERM or SIGINT stops it cleanly: the batch in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the table's store closed, the group left. Logs
are the platform's JSON lines on stderr. ``state recovered`` is logged once the table is
recovered from its changelog and the agent runs. The worker is ``chs_events.streams.run_worker``.
"""

import logging

from chs_events.streams import run_worker
from chs_push.app import CONSUMER, create_app
from chs_push.settings import PushSettings

log = logging.getLogger("chs_push.processor")


def run_processor(settings: PushSettings) -> None:
    run_worker(
        settings,
        CONSUMER,
        create_app,
        logger=log,
        role="processor",
        ready="state recovered",
        store=settings.store,
    )
