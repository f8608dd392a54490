"""The push service's consumer groups (the profiles are the processor's, ``chs_push.app``):

- ``push-campaigns`` on ``chs.push.campaigns``: a published campaign without a later
  ``send_at`` starts at once (published → running, ``CampaignStarted``), and the worker's
  fan-out wakes (``chs_push.fanout``); a scheduled one is started by the fan-out at its time;
- ``push-notice-status`` on ``chs.notices.status``: the status notification announces for a
  notice of a campaign's template is recorded on its target (forward only: a late ``sent``
  never undoes ``delivered``); the platform's other notices are passed over.
"""

from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.notices import (
    NoticeCapped,
    NoticeDelivered,
    NoticeFailed,
    NoticeOptedOut,
    NoticeSent,
    NoticeStatusChanged,
    NoticeUndeliverable,
)
from chs_events.events.push import CAMPAIGN_TEMPLATES, CampaignPublished
from chs_events.topics import NOTICE_STATUS, PUSH_CAMPAIGNS
from chs_events.unit_of_work import UnitOfWork
from chs_push import handlers
from chs_push.commands import RecordNoticeStatus, StartCampaign

CAMPAIGNS_CONSUMER = "push-campaigns"
STATUS_CONSUMER = "push-notice-status"


async def on_campaign_published(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, CampaignPublished)
    await handlers.handle_start(uow, StartCampaign(event.campaign_id))


async def on_notice_status(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NoticeStatusChanged)
    if event.template_id not in CAMPAIGN_TEMPLATES:
        return  # a service message: never a campaign's
    await handlers.handle_notice_status(
        uow, RecordNoticeStatus(event.notice_id, event.status, event.at)
    )


STATUS_TYPES = (
    NoticeSent,
    NoticeDelivered,
    NoticeFailed,
    NoticeUndeliverable,
    NoticeOptedOut,
    NoticeCapped,
)
SUBSCRIPTIONS = [
    Subscription(
        CAMPAIGNS_CONSUMER, [PUSH_CAMPAIGNS], {CampaignPublished.ce_type: on_campaign_published}
    ),
    # Unhurried: progress may trail the statuses by a tenth of a second, and most statuses are
    # the service messages' (passed over): they come in batches, not a transaction each.
    Subscription(
        STATUS_CONSUMER,
        [NOTICE_STATUS],
        {model.ce_type: on_notice_status for model in STATUS_TYPES},
        unhurried=True,
    ),
]
