"""Request and response bodies of the push API. A segment's body is ``rules.segments.Segment``
itself: the rule a campaign carries is the one previewed."""

from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from chs_events.events.push import CampaignKind
from chs_events.fields import examples
from chs_events.schemas import ChinaTime, PublicModel
from chs_push.domain import CampaignStatus
from chs_push.rules.segments import Segment

SegmentBody = Segment


class PreviewPublic(BaseModel):
    count: int = Field(description="The profiles the segment matches today, in the region")
    sample: list[str] = Field(description="A few of them, person ids masked")
    as_of: date = Field(description="The day the ages, windows and elderly were computed for")
    region_prefix: str = Field(
        description="The region counted: the segment's, within the caller's (default: it)"
    )


class CampaignCreate(BaseModel):
    model_config = examples(
        {
            "template_id": "chronic.hypertension_policy",
            "segment": {"region_prefix": "3702", "elderly": True, "conditions": ["hypertension"]},
            "purpose": "高血压门诊用药保障政策宣传（60岁以上）",
        },
        {
            "template_id": "general.resident_contribution_period",
            "params": {"year": "2027", "deadline": "2026年12月31日"},
            "purpose": "2027年度居民医保集中缴费期提醒（全量）",
            "send_at": "2026-12-01T09:00:00+08:00",
        },
    )

    template_id: str = Field(
        description="A push or broadcast template of notification's registry (its category is "
        "the campaign's kind)"
    )
    segment: Segment = Field(
        default_factory=Segment,
        description="Who it is for, within the operator's region (default: all of it); a "
        "broadcast takes no criteria but the region: every enrolled person of it",
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="The template's params other than the greeting (the directory's name), "
        "each of its declared format",
    )
    purpose: str = Field(
        min_length=1, max_length=500, description="Why: kept for audit, never sent"
    )
    send_at: AwareDatetime | None = Field(
        default=None, description="When its fan-out starts once published (default: at once)"
    )


class CampaignPublic(PublicModel):
    campaign_id: str
    template_id: str
    kind: CampaignKind
    segment: dict[str, Any] = Field(description="The segment as targeted (narrowed)")
    params: dict[str, str]
    region: str
    purpose: str
    created_by: str
    created_at: ChinaTime
    send_at: ChinaTime | None
    status: CampaignStatus
    as_of: date | None = Field(description="The day the segment is matched for, once running")
    targeted: int = Field(description="Notices requested so far")
    published_at: ChinaTime | None
    started_at: ChinaTime | None
    completed_at: ChinaTime | None
    cancelled_at: ChinaTime | None
    cancelled_by: str | None


class CampaignPage(BaseModel):
    total: int
    offset: int
    limit: int
    campaigns: list[CampaignPublic]


class ProgressPublic(BaseModel):
    """Each target counted once, under the latest status notification announced for it."""

    campaign_id: str
    status: CampaignStatus
    targeted: int = Field(description="Notices requested (one per matching person)")
    queued: int = Field(description="No status yet: queued in notification (or deferred)")
    sent: int = Field(description="Sent, no delivery receipt yet")
    delivered: int
    failed: int
    undeliverable: int
    opted_out: int = Field(description="Not sent: the person opted out of push")
    capped: int = Field(description="Not sent: the person had the category's cap")
