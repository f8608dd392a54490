"""Commands of the feeds service (``chs_events.commands.Command``; the correlation id travels in
the unit of work). A record sent alone is a command of one report; a batch is one command per
chunk of lines, with the lines already refused by the row rules (``rejected``) reported beside
the others."""

from chs_events.commands import Command
from chs_feeds.model import AccidentReport, DeathReport, FeedKind, LineOutcome


class RecordDeaths(Command):
    reports: tuple[DeathReport, ...]
    rejected: tuple[LineOutcome, ...] = ()
    batch_id: str | None = None


class RecordAccidents(Command):
    reports: tuple[AccidentReport, ...]
    rejected: tuple[LineOutcome, ...] = ()
    batch_id: str | None = None


class OpenBatch(Command):
    """An upload begins: its id, feed, format and uploader (the token's subject)."""

    batch_id: str
    kind: FeedKind
    format: str
    uploaded_by: str


class CloseBatch(Command):
    """The upload ended (``stopped_reason``: before its end, over a bound or cut off)."""

    batch_id: str
    stopped_reason: str | None = None
