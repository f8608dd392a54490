"""Settings of the fraud service (environment prefix ``CHS_``): the case-work API and worker,
and the fraud processor (``python -m chs_fraud processor``)."""

import importlib.util
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from chs_events.settings import ProcessorSettings
from chs_fraud.rules import Rules


class FraudSettings(ProcessorSettings):
    service_name: str = "fraud"
    database_name: str = "chs_fraud"
    http_port: int = 8110

    # --- the processor ---
    # Where the per-person tables live: RocksDB (rocksdict) on local disk, recovered from the
    # changelog only past the offsets it persisted; or memory, rebuilt from the whole changelog
    # on every start (bench/fraud.py measures both). RocksDB unless rocksdict is not installed.
    store: Literal["rocksdb", "memory"] = (
        "rocksdb" if importlib.util.find_spec("rocksdict") else "memory"
    )
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-fraud"
    batch_size: int = Field(default=1000, gt=0)
    # Third-party liability: an injury admitted from this many days before the accident to this
    # many after it.
    accident_days_before: int = Field(default=3, ge=0)
    accident_days_after: int = Field(default=30, ge=0)
    # How far back (from the person's newest benefit) benefits are kept for a late death record.
    horizon_days: int = Field(default=730, gt=0)
    max_kept_benefits: int = Field(default=500, gt=0)

    @property
    def rules(self) -> Rules:
        return Rules(
            accident_days_before=self.accident_days_before,
            accident_days_after=self.accident_days_after,
            horizon_days=self.horizon_days,
            max_kept=self.max_kept_benefits,
        )
