"""Response bodies of the notification HTTP API."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from chs_events.schemas import PublicModel

MessageStatusName = Literal["queued", "sent", "delivered", "failed", "undeliverable"]


class MessageView(BaseModel):
    message_id: UUID
    notice_id: str
    person_id: str
    template_id: str
    category: str
    text: str | None = Field(description="As sent; null until the message is dispatched")
    sender: str | None = Field(description="10639239 in the province, 106575376196 outside")
    mobile_masked: str | None = Field(description="The number it went to, masked: 138****5678")
    status: MessageStatusName
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
    pending: int = Field(description="Queued or sent, no final status yet")
    success_rate: str = Field(
        description="Delivered per final message in percent, one decimal rounded down; "
        "'n/a' when none is final yet"
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
