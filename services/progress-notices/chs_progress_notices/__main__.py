"""``python -m chs_progress_notices worker`` — run the progress-notice processor.

SIGTERM or SIGINT stops it cleanly: the event in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the group is left. Logs are the platform's
JSON lines on stderr; faust's and aiokafka's own loggers speak only from WARNING up.
"""

import argparse
import asyncio
import logging
from collections.abc import Sequence

import faust
import uvloop

from chs_events.logging import configure_logging
from chs_events.metrics import serve_metrics
from chs_progress_notices.app import CONSUMER, create_app
from chs_progress_notices.settings import ProgressNoticeSettings

log = logging.getLogger("chs_progress_notices")

QUIET_LOGGERS = ("faust", "mode", "aiokafka", "kafka")


def _configure_logging(settings: ProgressNoticeSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    level = max(logging.WARNING, logging.getLogger().level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level)


class NoticeWorker(faust.Worker):
    """A faust worker that keeps the platform's logging instead of installing its own."""

    def __init__(self, app: faust.App, settings: ProgressNoticeSettings) -> None:
        self._settings = settings
        super().__init__(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
        self.spinner = None  # no terminal progress output

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        # mode has just replaced the root handlers with its own: put ours back.
        _configure_logging(self._settings)

    def on_worker_shutdown(self) -> None:
        log.info("worker stopping")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chs_progress_notices")
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    settings = ProgressNoticeSettings()
    _configure_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    serve_metrics(settings.metrics_port, settings.http_host)
    log.info(
        "worker starting",
        extra={
            "bootstrap": settings.kafka_bootstrap,
            "group": settings.group(CONSUMER),
            "topic_prefix": settings.topic_prefix,
        },
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the loop faust's worker creates
    NoticeWorker(create_app(settings), settings).execute_from_commandline()


if __name__ == "__main__":
    main()
