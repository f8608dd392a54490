"""What a preview answers, and the campaign aggregate (no I/O).

A campaign: ``draft`` → ``published`` (its ``send_at`` in the future: scheduled) → ``running``
(the fan-out, page by page, from its ``cursor``) → ``completed``; or ``cancelled`` from draft,
published or running. Each method returns the campaign as it now is and the event it raises.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from chs_events.events.push import (
    CampaignCancelled,
    CampaignCompleted,
    CampaignKind,
    CampaignPublished,
    CampaignStarted,
)
from chs_push.domain import CampaignNotChangeable, CampaignStatus
from chs_push.rules.segments import Segment


@dataclass(frozen=True)
class Preview:
    """How many profiles a segment matches on ``as_of`` within ``region_prefix``, and a few of
    them (the first by person id: an HMAC, so no order of age or region), masked."""

    count: int
    sample: tuple[str, ...]
    as_of: date
    region_prefix: str


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    template_id: str
    kind: CampaignKind
    segment: Segment  # narrowed to ``region``: its region_prefix is the region's
    params: dict[str, str]
    region: str  # GB/T 2260: the operator's, or a part of it
    purpose: str  # kept for audit, never sent
    created_by: str
    created_at: datetime
    send_at: datetime | None = None
    status: CampaignStatus = "draft"
    as_of: date | None = None  # the day the segment is matched for, set when it starts
    cursor: str = ""  # the last person id fanned out (the keyset scan resumes after it)
    targeted: int = 0
    published_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    def _refused(self, action: str) -> CampaignNotChangeable:
        return CampaignNotChangeable(
            f"campaign {self.campaign_id} is {self.status}: it cannot be {action}",
            status_now=self.status,
        )

    def publish(self, at: datetime) -> tuple["Campaign", CampaignPublished]:
        if self.status != "draft":
            raise self._refused("published")
        published = replace(self, status="published", published_at=at)
        return published, CampaignPublished.of(
            published,
            campaign_id=self.campaign_id,
            segment=self.segment.model_dump(mode="json", exclude_none=True),
        )

    def due(self, at: datetime) -> bool:
        """Published and its time has come (none given: at once)."""
        return self.status == "published" and (self.send_at is None or self.send_at <= at)

    def start(self, at: datetime, today: date) -> tuple["Campaign", CampaignStarted]:
        """The fan-out begins, matching the segment as of ``today`` for the whole scan."""
        if not self.due(at):
            raise self._refused("started")
        started = replace(self, status="running", started_at=at, as_of=today)
        return started, CampaignStarted(campaign_id=self.campaign_id, as_of=today)

    def fanned_out(self, cursor: str, written: int) -> "Campaign":
        """A page of the fan-out: ``written`` new targets up to ``cursor``."""
        if self.status != "running":
            raise self._refused("fanned out")
        return replace(self, cursor=cursor, targeted=self.targeted + written)

    def complete(self, at: datetime) -> tuple["Campaign", CampaignCompleted]:
        if self.status != "running":
            raise self._refused("completed")
        completed = replace(self, status="completed", completed_at=at)
        return completed, CampaignCompleted(campaign_id=self.campaign_id, targeted=self.targeted)

    def cancel(self, by: str, at: datetime) -> tuple["Campaign", CampaignCancelled]:
        if self.status not in ("draft", "published", "running"):
            raise self._refused("cancelled")
        cancelled = replace(self, status="cancelled", cancelled_at=at, cancelled_by=by)
        return cancelled, CampaignCancelled(
            campaign_id=self.campaign_id, cancelled_by=by, targeted=self.targeted
        )

    @property
    def notice_params(self) -> dict[str, Any]:
        """What each notice carries: the operator's checked params only (the greeting's name
        is the directory's); the purpose never."""
        return dict(self.params)
