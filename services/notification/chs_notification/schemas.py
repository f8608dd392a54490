"""Response bodies of the notification HTTP API."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chs_events.schemas import ChinaTime, PublicModel

MessageStatusName = Literal[
    "queued", "sent", "delivered", "failed", "undeliverable", "opted_out", "capped"
]


class MessageView(BaseModel):
    message_id: UUID
    notice_id: str
    person_id: str
    template_id: str
    category: str
    text: str | None = Field(description="As sent; null until the message is dispatched")
    sender: str | None = Field(description="10639239 in the province, 106575376196 outside")
    mobile_masked: str | None = Field(description="The number it went to, masked: 138****5678")
    status: MessageStatusName = Field(
        description="opted_out and capped: a push or broadcast not sent, by its category's rules"
    )
    not_before: datetime | None = Field(
        description="A push or broadcast deferred out of the quiet hours: queued until then"
    )
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    final_at: datetime | None


class PersonMessages(BaseModel):
    person_id: str
    messages: list[MessageView] = Field(description="Newest first")


class DeliveryStatsRow(BaseModel):
    template_id: str
    day: date = Field(description="Day the notice arrived, Asia/Shanghai")
    total: int
    delivered: int
    failed: int
    undeliverable: int
    opted_out: int = Field(description="Push and broadcast not sent: the person opted out")
    capped: int = Field(description="Push and broadcast not sent: over the person's cap")
    pending: int = Field(
        description="Queued (deferred out of the quiet hours too) or sent, no final status yet"
    )
    success_rate: str = Field(
        description="Delivered per final message in percent, one decimal rounded down; "
        "'n/a' when none is final yet. Opted_out and capped messages, never sent, are left out"
    )


class DeliveryStats(BaseModel):
    date_from: date
    date_to: date
    template_id: str | None
    rows: list[DeliveryStatsRow]


class TemplateView(PublicModel):
    template_id: str
    category: str
    business_area: str
    text: str
    elderly_text: str = Field(description="The variant for people aged 60 and over")
    params: list[str]


class PushPreferenceUpdate(BaseModel):
    """Opt out of push and broadcast messages (``true``), or back in (``false``). Business
    results and account notices are service messages and always go."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"opted_out": True}]})
    opted_out: StrictBool


class PushPreferenceView(BaseModel):
    person_id: str
    opted_out: bool
    via: Literal["sms_reply", "app"] | None = Field(
        description="How it was last changed (a TD reply, or the app); null: never changed"
    )
    changed_at: ChinaTime | None
