"""``python -m chs_fraud processor`` — run the fraud processor (faust) in this process.

SIGTERM or SIGINT stops it cleanly: the batch in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the tables' stores closed, the group left. Logs
are the platform's JSON lines on stderr; faust's and aiokafka's loggers speak from WARNING up.
``state recovered`` is logged once the tables are recovered from their changelogs and the agent
runs (``seconds_since_start``: the recovery time after a restart).
"""

import asyncio
import logging
import time

import faust
import uvloop

from chs_events.logging import configure_logging
from chs_events.metrics import serve_metrics
from chs_fraud.app import CONSUMER, create_app, state_dir
from chs_fraud.settings import FraudSettings

log = logging.getLogger("chs_fraud.processor")

QUIET_LOGGERS = ("faust", "mode", "aiokafka", "kafka")


def _configure_logging(settings: FraudSettings) -> None:
    configure_logging(f"{settings.service_name}-processor", settings.log_level)
    level = max(logging.WARNING, logging.getLogger().level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level)


class ProcessorWorker(faust.Worker):
    """A faust worker that keeps the platform's logging and says when its state is back."""

    def __init__(self, app: faust.App, settings: FraudSettings) -> None:
        self._settings = settings
        self._created_at = time.monotonic()
        super().__init__(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
        self.spinner = None  # no terminal progress output

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        _configure_logging(self._settings)  # mode has just replaced the root handlers

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        log.info(
            "state recovered",
            extra={
                "store": self._settings.store,
                "seconds_since_start": round(time.monotonic() - self._created_at, 3),
            },
        )

    def on_worker_shutdown(self) -> None:
        log.info("processor stopping")


def run_processor(settings: FraudSettings) -> None:
    _configure_logging(settings)
    state_dir(settings).mkdir(parents=True, exist_ok=True)
    serve_metrics(settings.metrics_port, settings.http_host)
    log.info(
        "processor starting",
        extra={
            "bootstrap": settings.kafka_bootstrap,
            "group": settings.group(CONSUMER),
            "topic_prefix": settings.topic_prefix,
            "store": settings.store,
        },
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the loop faust's worker creates
    ProcessorWorker(create_app(settings), settings).execute_from_commandline()
