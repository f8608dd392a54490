"""``python -m chs_progress_notices worker`` — run the progress-notice processor.

SIGTERM or SIGINT stops it cleanly: the event in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the group is left. Logs are the platform's
JSON lines on stderr; faust's and aiokafka's own loggers speak only from WARNING up
(``chs_events.streams.run_worker``).
"""

import argparse
import logging
from collections.abc import Sequence

from chs_events.streams import run_worker
from chs_progress_notices.app import CONSUMER, create_app
from chs_progress_notices.settings import ProgressNoticeSettings

log = logging.getLogger("chs_progress_notices")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chs_progress_notices")
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    run_worker(ProgressNoticeSettings(), CONSUMER, create_app, logger=log)


if __name__ == "__main__":
    main()
