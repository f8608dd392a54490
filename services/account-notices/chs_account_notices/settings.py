"""Settings of the account-notice processor (environment prefix ``CHS_``): the processors'
(``chs_events.settings.ProcessorSettings``: group timeouts, commits, batches, retries), where its
table lives, and its policy data (``policy.json``: the low-balance thresholds)."""

import importlib.util
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from chs_account_notices.rules.policy import POLICY_FILE, Policy
from chs_events.settings import ProcessorSettings


class AccountNoticeSettings(ProcessorSettings):
    service_name: str = "account-notices"
    # The per-account table: RocksDB (rocksdict) on local disk, recovered from the changelog only
    # past the offsets it persisted; or memory, rebuilt from the whole changelog on every start.
    store: Literal["rocksdb", "memory"] = (
        "rocksdb" if importlib.util.find_spec("rocksdict") else "memory"
    )
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-account-notices"
    policy_file: Path = POLICY_FILE
    # Where coalescing is on: how often each instance ticks its partitions (a burst's notice is
    # at most this late after its window ends).
    tick_seconds: float = Field(default=30.0, gt=0)

    @property
    def policy(self) -> Policy:
        return Policy.read(self.policy_file)
