"""Push campaigns (精准推送), on ``chs.push.campaigns``: a campaign published, started, completed
(its fan-out done) or cancelled. The topic has one partition and is keyed by the campaign id:
no person is concerned, so an event's ``person_id`` (the record's key, ``Envelope.key``) is
the campaign's id, written and read as ``campaign_id`` (as the institutions' events do with
their code).

``CAMPAIGN_TEMPLATES`` is the contract between push and notification for a campaign's SMS: the
push and broadcast templates of notification's registry a campaign may name, with the params the
operator gives (each of a closed format: no free text reaches an SMS); the greeting's ``name``
is the directory's, filled by notification. Push does not import notification's package; a unit
test (``tests/unit/push/test_campaigns.py``) keeps this list in step with the registry.
A campaign's ``purpose`` is kept in push's database for audit and is in no event.
"""

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chs_events.events.base import Event, register
from chs_events.topics import PUSH_CAMPAIGNS

CampaignKind = Literal["push", "broadcast"]


class CampaignTemplate(BaseModel):
    """A template a campaign may send: its category (the campaign's kind) and the params the
    operator gives, each with the pattern its value must match."""

    model_config = ConfigDict(frozen=True)

    category: CampaignKind
    params: Mapping[str, str] = Field(default_factory=dict)


CAMPAIGN_TEMPLATES: Mapping[str, CampaignTemplate] = MappingProxyType(
    {
        "chronic.hypertension_policy": CampaignTemplate(category="push"),
        "chronic.diabetes_policy": CampaignTemplate(category="push"),
        "general.resident_contribution_period": CampaignTemplate(
            category="broadcast",
            params={
                "year": r"^20[0-9]{2}$",
                "deadline": r"^20[0-9]{2}年(?:1[0-2]|[1-9])月(?:3[01]|[12][0-9]|[1-9])日$",
            },
        ),
    }
)


class CampaignEvent(Event):
    # The record's key is the event's ``person_id`` (``Envelope.key``): here the campaign's id,
    # written and read as ``campaign_id``; no person is concerned.
    model_config = ConfigDict(serialize_by_alias=True)

    topic = PUSH_CAMPAIGNS
    producer = "push"

    person_id: str = Field(
        alias="campaign_id", min_length=1, max_length=64, description="The campaign (the key)"
    )

    @property
    def campaign_id(self) -> str:
        return self.person_id


@register
class CampaignPublished(CampaignEvent):
    """An operator published a campaign: its fan-out starts at ``send_at`` (at once without)."""

    ce_type = "chs.push.campaign.published.v1"

    template_id: str
    kind: CampaignKind
    region: str = Field(pattern=r"^[0-9]{6}$", description="The region targeted (GB/T 2260)")
    segment: dict[str, Any] = Field(description="The segment rule (push's Segment), as given")
    send_at: datetime | None = None
    created_by: str = Field(description="The operator's client id")


@register
class CampaignStarted(CampaignEvent):
    """The fan-out began: the segment is matched as of ``as_of`` for the whole scan."""

    ce_type = "chs.push.campaign.started.v1"

    as_of: date


@register
class CampaignCompleted(CampaignEvent):
    """The fan-out is done: one notice requested for each of the ``targeted`` persons."""

    ce_type = "chs.push.campaign.completed.v1"

    targeted: int = Field(ge=0)


@register
class CampaignCancelled(CampaignEvent):
    """An operator cancelled the campaign: no notice is requested after; those requested
    already (``targeted``) are not recalled."""

    ce_type = "chs.push.campaign.cancelled.v1"

    cancelled_by: str
    targeted: int = Field(ge=0)
