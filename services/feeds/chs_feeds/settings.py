"""Settings of the feeds service (env prefix ``CHS_``)."""

from pydantic import Field

from chs_events.settings import PlatformSettings


class FeedsSettings(PlatformSettings):
    service_name: str = "feeds"
    database_name: str = "chs_feeds"
    http_port: int = 8109

    # The bounds of one batch upload (CHS_BATCH_MAX_BYTES, CHS_BATCH_MAX_LINES,
    # CHS_BATCH_MAX_LINE_BYTES): a body announced larger is refused before it is read (413);
    # one that grows past them while streaming stops there (the lines before are kept and
    # published, the batch is `incomplete`, the answer 413 names it).
    batch_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    batch_max_lines: int = Field(default=200_000, gt=0)
    batch_max_line_bytes: int = Field(default=8 * 1024, gt=0)
    # Lines validated, deduplicated and committed (with their events) per transaction.
    batch_chunk_lines: int = Field(default=500, gt=0, le=10_000)
