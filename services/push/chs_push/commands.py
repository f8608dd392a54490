"""The push service's commands: what a handler is asked to do."""

from dataclasses import dataclass
from datetime import date

from chs_push.rules.segments import Segment


@dataclass(frozen=True)
class PreviewSegment:
    """Count the profiles ``segment`` (narrowed to the caller's region) matches on ``today``."""

    segment: Segment
    today: date
    sample_size: int
