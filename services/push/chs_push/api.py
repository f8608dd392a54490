"""HTTP API of the push service (精准推送): segment preview and campaigns for the agencies' push
operators (scope ``push:publish``), of their own region or a part of it."""

from contextlib import suppress
from typing import Annotated

import asyncpg
from fastapi import APIRouter, FastAPI, Query, Request, Response

from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app
from chs_push import handlers, repository
from chs_push.commands import CancelCampaign, DraftCampaign, PreviewSegment, PublishCampaign
from chs_push.model import Campaign, Preview
from chs_push.rules.segments import OutsideRegion, Segment, within
from chs_push.schemas import (
    CampaignCreate,
    CampaignPage,
    CampaignPublic,
    PreviewPublic,
    ProgressPublic,
    SegmentBody,
)
from chs_push.settings import PushSettings

TITLE = "CHS push (精准推送)"
DESCRIPTION = """Segments of the push profiles, and push campaigns. The push processor keeps one
profile per person from the platform's events (insured type, pooling region, age and sex, alive
and enrolled, employer, certified chronic conditions, remote-care filings, maternity, the push
opt-out) and a projection of them in this service's database. An operator previews a segment (a
rule over the profile's fields): how many people it matches today in the operator's region, and
a few of them with their ids masked. A campaign is a template of notification's registry (a push
or a broadcast one, with its elderly variant), a segment, an optional time and a purpose (kept
for audit, never sent): drafted, previewed, published (`CampaignPublished` on
`chs.push.campaigns`), fanned out by push's worker to one notice per matching person (at the
gateway's pace), cancelled; its progress counts the notices by the status notification
announced. The dead, and those who opted out of push, are never matched. Errors are RFC 9457
problem bodies."""

router = APIRouter(tags=["segments"])
campaigns = APIRouter(tags=["campaigns"])


def _narrowed(caller: Caller, segment: Segment, action: str) -> Segment:
    """The segment within the caller's region; refused (403, the policy's body) when the
    caller serves no region or the segment's is another."""
    served = caller.claim("region")
    if served is not None:
        with suppress(OutsideRegion):
            return within(segment, served)
    authorize(caller, action, Target())  # no region of the caller's: refused
    raise OutsideRegion(segment.region_prefix or "")  # not reached: authorize refused


def _preview(preview: Preview) -> PreviewPublic:
    return PreviewPublic(
        count=preview.count,
        sample=list(preview.sample),
        as_of=preview.as_of,
        region_prefix=preview.region_prefix,
    )


@router.post("/segments/preview", responses=problem_responses(403, 422))
async def preview_segment(
    caller: Annotated[Caller, allowed("push:preview")],
    body: SegmentBody,
    conn: Connection,
    request: Request,
) -> PreviewPublic:
    """How many profiles the segment matches today within the caller's region, and a sample of
    them: a segment of a wider region (or of none) is narrowed to the caller's, one of a part of
    it kept; one of another region is 403."""
    segment = _narrowed(caller, body, "push:preview")
    settings: PushSettings = request.app.state.settings
    preview = await handlers.handle_preview(
        conn, PreviewSegment(segment, today(), settings.sample_size)
    )
    return _preview(preview)


def _public(campaign: Campaign) -> CampaignPublic:
    return CampaignPublic.from_attributes(
        campaign, segment=campaign.segment.model_dump(mode="json", exclude_none=True)
    )


async def _campaign(
    conn: asyncpg.Connection, caller: Caller, action: str, campaign_id: str
) -> Campaign:
    """The campaign (404), of the caller's region (the policy's 403)."""
    campaign = await repository.campaign_found(conn, campaign_id)
    authorize(caller, action, Target(regions=(campaign.region,)))
    return campaign


def _client_id(caller: Caller) -> str:
    return caller.claim("azp") or caller.subject


@campaigns.post("/campaigns", status_code=201, responses=problem_responses(403, 422))
async def draft_campaign(
    caller: Annotated[Caller, allowed("push:draft-campaign")],
    body: CampaignCreate,
    uow: UnitOfWorkDep,
    response: Response,
) -> CampaignPublic:
    """A draft campaign of the template for the segment, within the caller's region (a segment
    of a wider region, or of none, is narrowed to it; of another region, 403). 422 for a
    template that is not a push or broadcast one, params it does not take or of another format,
    or a broadcast given criteria. Nothing is sent until it is published."""
    segment = _narrowed(caller, body.segment, "push:draft-campaign")
    campaign = await handlers.handle_draft(
        uow,
        DraftCampaign(
            campaign_id=handlers.new_campaign_id(),
            template_id=body.template_id,
            segment=segment,
            params=body.params,
            purpose=body.purpose,
            send_at=body.send_at,
            created_by=_client_id(caller),
        ),
    )
    response.headers["Location"] = f"/campaigns/{campaign.campaign_id}"
    return _public(campaign)


@campaigns.get("/campaigns", responses=problem_responses(403))
async def list_campaigns(
    caller: Annotated[Caller, allowed("push:read-campaigns")],
    conn: Connection,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CampaignPage:
    """The campaigns of the caller's region and its parts, the newest first."""
    area = caller.claim("region")
    if area is None:
        return CampaignPage(total=0, offset=offset, limit=limit, campaigns=[])
    total, page = await repository.campaigns_within(conn, area, limit, offset)
    return CampaignPage(
        total=total, offset=offset, limit=limit, campaigns=[_public(c) for c in page]
    )


@campaigns.get("/campaigns/{campaign_id}", responses=problem_responses(403, 404))
async def get_campaign(
    caller: Annotated[Caller, allowed("push:read-campaigns")], campaign_id: str, conn: Connection
) -> CampaignPublic:
    return _public(await _campaign(conn, caller, "push:read-campaigns", campaign_id))


@campaigns.post("/campaigns/{campaign_id}/preview", responses=problem_responses(403, 404))
async def preview_campaign(
    caller: Annotated[Caller, allowed("push:preview")],
    campaign_id: str,
    conn: Connection,
    request: Request,
) -> PreviewPublic:
    """How many people the campaign's segment matches today, and a sample of them (masked)."""
    campaign = await _campaign(conn, caller, "push:preview", campaign_id)
    settings: PushSettings = request.app.state.settings
    preview = await handlers.handle_preview(
        conn, PreviewSegment(campaign.segment, today(), settings.sample_size)
    )
    return _preview(preview)


@campaigns.post("/campaigns/{campaign_id}/publish", responses=problem_responses(403, 404, 409))
async def publish_campaign(
    caller: Annotated[Caller, allowed("push:publish-campaign")],
    campaign_id: str,
    uow: UnitOfWorkDep,
) -> CampaignPublic:
    """draft → published → CampaignPublished on ``chs.push.campaigns``: its fan-out starts at
    its ``send_at`` (at once without). 409 when it is not a draft."""
    await _campaign(uow.conn, caller, "push:publish-campaign", campaign_id)
    return _public(await handlers.handle_publish(uow, PublishCampaign(campaign_id)))


@campaigns.post("/campaigns/{campaign_id}/cancel", responses=problem_responses(403, 404, 409))
async def cancel_campaign(
    caller: Annotated[Caller, allowed("push:cancel-campaign")],
    campaign_id: str,
    uow: UnitOfWorkDep,
) -> CampaignPublic:
    """→ cancelled → CampaignCancelled: no notice is requested after (the fan-out stops at its
    next page); those requested already are not recalled. 409 when completed or cancelled."""
    await _campaign(uow.conn, caller, "push:cancel-campaign", campaign_id)
    cancelled = await handlers.handle_cancel(
        uow, CancelCampaign(campaign_id, cancelled_by=_client_id(caller))
    )
    return _public(cancelled)


@campaigns.get("/campaigns/{campaign_id}/progress", responses=problem_responses(403, 404))
async def campaign_progress(
    caller: Annotated[Caller, allowed("push:read-campaigns")], campaign_id: str, conn: Connection
) -> ProgressPublic:
    """The notices requested so far, each under the latest status notification announced for
    it (readable while the fan-out runs)."""
    campaign = await _campaign(conn, caller, "push:read-campaigns", campaign_id)
    counts = await repository.progress(conn, campaign_id)
    return ProgressPublic(campaign_id=campaign_id, status=campaign.status, **counts)


def create_app(settings: PushSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_push", title=TITLE, description=DESCRIPTION, routers=[router, campaigns]
    )
