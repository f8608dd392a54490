"""Settings of the progress-notice processor (environment prefix ``CHS_``)."""

import tempfile
from pathlib import Path

from chs_events.settings import PlatformSettings


class ProgressNoticeSettings(PlatformSettings):
    service_name: str = "progress-notices"
    # How long the consumer group waits for a silent worker before moving its partitions on:
    # a killed worker's partitions, and a restarted worker's first assignment, wait this long.
    member_timeout_seconds: float = 10.0
    heartbeat_interval_seconds: float = 3.0
    # How often processed offsets are committed; a crash redelivers at most this much work.
    commit_interval_seconds: float = 2.8
    # Events taken at once: their notices are published together and acknowledged together.
    batch_size: int = 500
    batch_wait_seconds: float = 0.01
    # Handler attempts before an event is dead-lettered, and the first backoff delay.
    max_attempts: int = 4
    retry_base_delay_seconds: float = 0.2
    retry_max_delay_seconds: float = 5.0
    # faust wants a data directory even without tables; keep it out of the working tree.
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-progress-notices"
