"""The push service's commands: what a handler is asked to do."""

from datetime import date, datetime

from chs_events.commands import Command
from chs_push.domain import TargetStatus
from chs_push.rules.segments import Segment


class PreviewSegment(Command):
    """Count the profiles ``segment`` (narrowed to the caller's region) matches on ``today``."""

    segment: Segment
    today: date
    sample_size: int


class DraftCampaign(Command):
    """A campaign of ``template_id`` for ``segment`` (narrowed to the caller's region)."""

    campaign_id: str
    template_id: str
    segment: Segment
    params: dict[str, str]
    purpose: str
    send_at: datetime | None
    created_by: str


class PublishCampaign(Command):
    campaign_id: str


class CancelCampaign(Command):
    campaign_id: str
    cancelled_by: str


class StartCampaign(Command):
    """Begin the fan-out of a published campaign whose time has come (nothing otherwise)."""

    campaign_id: str


class FanOutPage(Command):
    """The next page of a running campaign's fan-out: at most ``page_size`` targets."""

    campaign_id: str
    page_size: int


class RecordNoticeStatus(Command):
    """A campaign notice's status as notification announced it (nothing for other notices)."""

    notice_id: str
    status: TargetStatus
    at: datetime
