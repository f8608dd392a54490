"""The notification aggregate: a message, one per notice (the SMS it becomes). Its status
moves (``domain.TRANSITIONS``) return the new state and the ``chs.notices.*`` event announcing
it; no I/O."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chs_events.events.notices import (
    NoticeCapped,
    NoticeDelivered,
    NoticeFailed,
    NoticeOptedOut,
    NoticeSent,
    NoticeStatusChanged,
    NoticeUndeliverable,
)
from chs_notification.domain import TERMINAL_STATUSES, DeliveryEvent, MessageStatus, next_status

# message ids derive from notice ids, so the gateway's idempotency key of a notice never changes
MESSAGE_ID_NAMESPACE = uuid.UUID("5d0c1c9e-3f0e-4c55-9a57-6a1f0b7d2c41")

STATUS_EVENTS: Mapping[MessageStatus, type[NoticeStatusChanged]] = {
    MessageStatus.SENT: NoticeSent,
    MessageStatus.DELIVERED: NoticeDelivered,
    MessageStatus.FAILED: NoticeFailed,
    MessageStatus.UNDELIVERABLE: NoticeUndeliverable,
    MessageStatus.OPTED_OUT: NoticeOptedOut,
    MessageStatus.CAPPED: NoticeCapped,
}


def message_id_for(notice_id: str) -> uuid.UUID:
    return uuid.uuid5(MESSAGE_ID_NAMESPACE, notice_id)


@dataclass(frozen=True)
class Message:
    """A notice's message: whom it is for, the request it came from (its events are caused by
    it and carry its correlation id), and where it stands."""

    message_id: uuid.UUID
    notice_id: str
    person_id: str
    template_id: str
    request_event_id: str
    correlation_id: str | None = None
    status: MessageStatus = MessageStatus.QUEUED
    final_at: datetime | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Message":
        """A message as stored (a ``messages`` row)."""
        return cls(
            message_id=uuid.UUID(str(row["message_id"])),
            notice_id=row["notice_id"],
            person_id=row["person_id"],
            template_id=row["template_id"],
            request_event_id=str(row["request_event_id"]),
            correlation_id=row["correlation_id"],
            status=MessageStatus(row["status"]),
            final_at=row["final_at"],
        )

    @property
    def final(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def move(
        self,
        event: DeliveryEvent,
        at: datetime,
        *,
        sender: str | None = None,
        reason: str | None = None,
    ) -> "tuple[Message, NoticeStatusChanged]":
        """The message after ``event`` (``domain.InvalidTransition`` when its status does not
        allow it) and the event announcing its new status."""
        status = next_status(self.status, event)
        moved = replace(self, status=status, final_at=at if status in TERMINAL_STATUSES else None)
        announced = STATUS_EVENTS[status](
            person_id=self.person_id,
            notice_id=self.notice_id,
            message_id=str(self.message_id),
            template_id=self.template_id,
            status=status.value,
            sender=sender,
            reason=reason,
            at=at,
        )
        return moved, announced
