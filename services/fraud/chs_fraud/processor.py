"""``python -m chs_fraud processor`` — run the fraud processor (faust) in this process.

SIGTERM or SIGINT stops it cleanly: the batch in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the tables' stores closed, the group left. Logs
are the platform's JSON lines on stderr; faust's and aiokafka's loggers speak from WARNING up.
``state recovered`` is logged once the tables are recovered from their changelogs and the agent
runs (``seconds_since_start``: the recovery time after a restart). The worker is
``chs_events.streams.run_worker``.
"""

import logging

from chs_events.streams import run_worker
from chs_fraud.app import CONSUMER, create_app
from chs_fraud.settings import FraudSettings

log = logging.getLogger("chs_fraud.processor")


def run_processor(settings: FraudSettings) -> None:
    run_worker(
        settings,
        CONSUMER,
        create_app,
        logger=log,
        role="processor",
        ready="state recovered",
        store=settings.store,
    )
