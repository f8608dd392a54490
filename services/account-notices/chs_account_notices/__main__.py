"""``python -m chs_account_notices worker`` — run the account-notice processor (faust).

SIGTERM or SIGINT stops it cleanly: the batch in hand is finished (or left unacked, to be
redelivered), processed offsets are committed, the table's store closed, the group left. Logs are
the platform's JSON lines on stderr; faust's and aiokafka's own loggers speak only from WARNING
up. ``state recovered`` is logged once the table is recovered from its changelog and the agent
runs (``chs_events.streams.run_worker``). The table lives in ``CHS_DATA_DIR`` (``CHS_STORE``:
rocksdb or memory).
"""

import argparse
import logging
from collections.abc import Sequence

from chs_account_notices.app import CONSUMER, create_app
from chs_account_notices.settings import AccountNoticeSettings
from chs_events.streams import run_worker

log = logging.getLogger("chs_account_notices")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chs_account_notices")
    parser.add_argument("command", choices=["worker"])
    parser.parse_args(argv)
    settings = AccountNoticeSettings()
    run_worker(
        settings, CONSUMER, create_app, logger=log, ready="state recovered", store=settings.store
    )


if __name__ == "__main__":
    main()
