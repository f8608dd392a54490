"""Settings of the push service (environment prefix ``CHS_``): the API, the worker's campaign
fan-out and the push processor (``python -m chs_push processor``)."""

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

    # --- the campaigns' fan-out (the worker) ---
    # Notification's gateway has no configured send rate (its local stand-in sends as fast as
    # it is asked), so the pace is push's own: set it to what the SMS provider's contract allows.
    push_fanout_per_second: float = Field(
        default=200.0,
        gt=0,
        description="Notices a second the fan-out requests at most, over all its campaigns "
        "(CHS_PUSH_FANOUT_PER_SECOND): a broadcast runs at the gateway's rate",
    )
    fanout_page_size: int = Field(
        default=500, gt=0, le=10_000, description="Targets a transaction (at most a second's)"
    )
    fanout_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the fan-out looks for due campaigns"
    )

    # --- the processor ---
    # Where the profiles table lives: RocksDB (rocksdict) on local disk, recovered from the
    # changelog only past the offsets it persisted; or memory, rebuilt from the whole changelog
    # on every start. RocksDB unless rocksdict is not installed.
    store: Literal["rocksdb", "memory"] = (
        "rocksdb" if importlib.util.find_spec("rocksdict") else "memory"
    )
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-push"
    batch_size: int = Field(default=1000, gt=0)
