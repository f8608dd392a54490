"""Settings of the progress-notice processor (environment prefix ``CHS_``): the processors'
(``chs_events.streams.ProcessorSettings``: group timeouts, commits, batches, retries)."""

import tempfile
from pathlib import Path

from chs_events.settings import ProcessorSettings


class ProgressNoticeSettings(ProcessorSettings):
    service_name: str = "progress-notices"
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-progress-notices"
    # A batch fills for up to this long: 10 ms woke the worker 100 times a second even when
    # idle (43 ms of CPU a second; 10 ms at 0.1 s) and cut a backlog into batches of ~150.
    batch_wait_seconds: float = 0.1
