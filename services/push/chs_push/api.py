"""HTTP API of the push service (精准推送): segment preview for the agencies' push operators
(scope ``push:publish``), of their own region or a part of it."""

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request

from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.service import Connection, create_service_app
from chs_push import handlers
from chs_push.commands import PreviewSegment
from chs_push.rules.segments import OutsideRegion, Segment, within
from chs_push.schemas import PreviewPublic, SegmentBody
from chs_push.settings import PushSettings

TITLE = "CHS push (精准推送)"
DESCRIPTION = """Segments of the push profiles. The push processor keeps one profile per person
from the platform's events (insured type, pooling region, age and sex, alive and enrolled,
employer, certified chronic conditions, remote-care filings, maternity, the push opt-out) and a
projection of them in this service's database. An operator previews a segment (a rule over the
profile's fields) before publishing a campaign: how many people it matches today in the
operator's region, and a few of them with their ids masked. The dead, and those who opted out
of push, are never matched. Errors are RFC 9457 problem bodies."""

router = APIRouter(tags=["segments"])


def _narrowed(caller: Caller, segment: Segment) -> Segment:
    """The segment within the caller's region; refused (403, the policy's body) when the
    caller serves no region or the segment's is another."""
    served = caller.claim("region")
    if served is not None:
        with suppress(OutsideRegion):
            return within(segment, served)
    authorize(caller, "push:preview", Target())  # no region of the caller's: refused
    raise OutsideRegion(segment.region_prefix or "")  # not reached: authorize refused


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
    segment = _narrowed(caller, body)
    settings: PushSettings = request.app.state.settings
    preview = await handlers.handle_preview(
        conn, PreviewSegment(segment, today(), settings.sample_size)
    )
    return PreviewPublic(
        count=preview.count,
        sample=list(preview.sample),
        as_of=preview.as_of,
        region_prefix=preview.region_prefix,
    )


def create_app(settings: PushSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_push", title=TITLE, description=DESCRIPTION, routers=[router]
    )
