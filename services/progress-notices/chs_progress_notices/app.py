"""The progress-notice processor: enrollment result events → ``chs.notices.requests``.

The mechanism (batches with manual acks, publish-then-await-acks, retries and dead letters,
no topic declared) is ``chs_events.streams``; the step is the rules (``notices_for``). A source
event's notices are acknowledged by the broker before its offset is acked, and a redelivered
event yields the same notice ids (``chs_events.events.notices.notice_id``), by which
notification deduplicates.
"""

import logging

import faust

from chs_events import streams
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_progress_notices.rules import SOURCE_TOPICS, SOURCE_TYPES, notices_for
from chs_progress_notices.settings import ProgressNoticeSettings

log = logging.getLogger(__name__)

CONSUMER = "progress-notices"


def _requested(source: Envelope, notice: NoticeRequested) -> None:
    log.debug(
        "notice requested",
        extra={"event_id": source.id, "type": source.type, "notice": notice.notice_id},
    )


def create_app(settings: ProgressNoticeSettings) -> faust.App:
    app = streams.create_app(settings, CONSUMER)  # no tables (no changelogs)
    streams.process_in_batches(
        app,
        settings,
        CONSUMER,
        sources=SOURCE_TOPICS,
        step=notices_for,
        effect=streams.publisher(app, settings, NoticeRequested, published=_requested),
        types=SOURCE_TYPES,  # the others ask for no notice: passed over unparsed
    )
    return app
