"""Settings of the push service (environment prefix ``CHS_``): the preview API and the push
processor (``python -m chs_push processor``)."""

import importlib.util
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from chs_events.settings import ProcessorSettings


class PushSettings(ProcessorSettings):
    service_name: str = "push"
    database_name: str = "chs_push"
    http_port: int = 8111

    # --- the preview ---
    sample_size: int = Field(default=10, ge=0, le=100)

    # --- the processor ---
    # Where the profiles table lives: RocksDB (rocksdict) on local disk, recovered from the
    # changelog only past the offsets it persisted; or memory, rebuilt from the whole changelog
    # on every start. RocksDB unless rocksdict is not installed.
    store: Literal["rocksdb", "memory"] = (
        "rocksdb" if importlib.util.find_spec("rocksdict") else "memory"
    )
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-push"
    batch_size: int = Field(default=1000, gt=0)
