"""What a preview answers (no I/O)."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Preview:
    """How many profiles a segment matches on ``as_of`` within ``region_prefix``, and a few of
    them (the first by person id: an HMAC, so no order of age or region), masked."""

    count: int
    sample: tuple[str, ...]
    as_of: date
    region_prefix: str
