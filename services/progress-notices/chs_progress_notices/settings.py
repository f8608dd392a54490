"""Settings of the progress-notice processor (environment prefix ``CHS_``): the processors'
(``chs_events.streams.ProcessorSettings``: group timeouts, commits, batches, retries)."""

import tempfile
from pathlib import Path

from chs_events.settings import ProcessorSettings


class ProgressNoticeSettings(ProcessorSettings):
    service_name: str = "progress-notices"
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-progress-notices"
