"""Command handlers of the push service.

A preview reads the projection (one count, one page of the first matches) in one read-only
transaction so both see the same rows. A campaign's handlers load it locked (``for update``),
call the aggregate, save it and record its event through the outbox, in one unit of work. A page
of the fan-out is one too: the page's targets (``on conflict do nothing``), one
``NoticeRequested`` for each new one, and the cursor, committed together — a crash resumes
after the last page committed, and a page written again writes nothing.
"""

import logging

import asyncpg
import uuid6

from chs_events.clock import now, today
from chs_events.envelope import Envelope
from chs_events.errors import InvalidField
from chs_events.events.notices import NoticeRequested
from chs_events.outbox import record_all
from chs_events.unit_of_work import UnitOfWork
from chs_push import domain, repository
from chs_push.commands import (
    CancelCampaign,
    DraftCampaign,
    FanOutPage,
    PreviewSegment,
    PublishCampaign,
    RecordNoticeStatus,
    StartCampaign,
)
from chs_push.domain import masked
from chs_push.model import Campaign, Preview

log = logging.getLogger(__name__)


async def handle_preview(conn: asyncpg.Connection, command: PreviewSegment) -> Preview:
    segment, today = command.segment, command.today
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        count = await repository.count_matching(conn, segment, today)
        first = (
            await repository.matching_page(conn, segment, today, limit=command.sample_size)
            if count and command.sample_size
            else []
        )
    return Preview(
        count=count,
        sample=tuple(masked(person_id) for person_id in first),
        as_of=today,
        region_prefix=segment.region_prefix or "",
    )


def new_campaign_id() -> str:
    return f"cmp-{uuid6.uuid7()}"


async def handle_draft(uow: UnitOfWork, command: DraftCampaign) -> Campaign:
    """A draft: the template one a campaign may send, its params checked, the segment's region
    the campaign's (a broadcast: every enrolled person of it, nothing else)."""
    kind = domain.kind_of(command.template_id)
    params = domain.checked_params(command.template_id, command.params)
    prefix = command.segment.region_prefix
    assert prefix is not None  # narrowed to the operator's region by the route
    if kind == "broadcast" and command.segment != type(command.segment)(region_prefix=prefix):
        raise InvalidField(
            "segment", "a broadcast is for every enrolled person of its region: give no criteria"
        )
    campaign = Campaign(
        campaign_id=command.campaign_id,
        template_id=command.template_id,
        kind=kind,
        segment=command.segment,
        params=params,
        region=domain.region_of(prefix),
        purpose=command.purpose,
        created_by=command.created_by,
        created_at=now(),
        send_at=command.send_at,
    )
    async with uow:
        await repository.insert_campaign(uow.conn, campaign)
    return campaign


async def handle_publish(uow: UnitOfWork, command: PublishCampaign) -> Campaign:
    """draft → published → CampaignPublished (the fan-out starts at its time)."""
    async with uow:
        campaign = await repository.campaign_for_change(uow.conn, command.campaign_id)
        published, event = campaign.publish(now())
        await repository.save_campaign(uow.conn, published, ("status", "published_at"))
        await uow.record(event)
    return published


async def handle_cancel(uow: UnitOfWork, command: CancelCampaign) -> Campaign:
    """→ cancelled → CampaignCancelled: the fan-out's next page sees it and stops (a page
    holds the campaign's lock, so a cancel comes between two pages)."""
    async with uow:
        campaign = await repository.campaign_for_change(uow.conn, command.campaign_id)
        cancelled, event = campaign.cancel(command.cancelled_by, now())
        await repository.save_campaign(
            uow.conn, cancelled, ("status", "cancelled_at", "cancelled_by")
        )
        await uow.record(event)
    return cancelled


async def handle_start(uow: UnitOfWork, command: StartCampaign) -> Campaign | None:
    """published and due → running → CampaignStarted; None when it is not (scheduled later,
    started already, cancelled)."""
    async with uow:
        campaign = await repository.campaign_for_change(uow.conn, command.campaign_id)
        if not campaign.due(now()):
            return None
        started, event = campaign.start(now(), today())
        await repository.save_campaign(uow.conn, started, ("status", "started_at", "as_of"))
        await uow.record(event)
        await repository.wake_fanout(uow.conn)
    return started


async def handle_fan_out_page(uow: UnitOfWork, command: FanOutPage) -> int:
    """The next page of a running campaign after its cursor: its new targets, a notice each,
    the cursor moved; the campaign completed when the scan is done. How many notices were
    requested (0 when the campaign is not running)."""
    async with uow:
        campaign = await repository.campaign_for_change(uow.conn, command.campaign_id)
        if campaign.status != "running":
            return 0
        assert campaign.as_of is not None
        page = await repository.matching_page(
            uow.conn,
            campaign.segment,
            campaign.as_of,
            after=campaign.cursor,
            limit=command.page_size,
        )
        written: list[tuple[str, str]] = []
        if page:
            targets = [
                (
                    person_id,
                    domain.campaign_notice_id(
                        campaign.campaign_id, campaign.template_id, person_id
                    ),
                )
                for person_id in page
            ]
            written = await repository.insert_targets(uow.conn, campaign.campaign_id, targets)
            await record_all(uow.conn, [_notice(uow, campaign, *target) for target in written])
            campaign = campaign.fanned_out(page[-1], len(written))
            await repository.save_campaign(uow.conn, campaign, ("cursor", "targeted"))
        if len(page) < command.page_size:
            completed, event = campaign.complete(now())
            await repository.save_campaign(uow.conn, completed, ("status", "completed_at"))
            await uow.record(event)
            log.info(
                "campaign fanned out",
                extra={"campaign_id": campaign.campaign_id, "targeted": completed.targeted},
            )
    return len(written)


def _notice(uow: UnitOfWork, campaign: Campaign, person_id: str, notice_id: str) -> Envelope:
    """The notice to one target: the campaign's template and params (never its purpose)."""
    return uow.envelope(
        NoticeRequested(
            person_id=person_id,
            notice_id=notice_id,
            template_id=campaign.template_id,
            params=campaign.notice_params,
            category=campaign.kind,
            priority="low",
        )
    )


async def handle_notice_status(uow: UnitOfWork, command: RecordNoticeStatus) -> bool:
    """A campaign target's status moved forward; False for any other notice."""
    async with uow:
        return await repository.record_status(
            uow.conn, command.notice_id, command.status, command.at
        )
