"""A message's status transitions.

Each one updates the message row and records its ``chs.notices.*`` event in the outbox, in the
caller's transaction, keyed by the recipient's person id.
"""
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from chs_events import outbox
from chs_events.envelope import Envelope
from chs_events.events.notices import (
    NoticeDelivered,
    NoticeFailed,
    NoticeSent,
    NoticeStatusChanged,
    NoticeUndeliverable,
)

from chs_notification import repository
from chs_notification.domain import DeliveryEvent, MessageStatus, next_status

SOURCE = "/chs/notification"

STATUS_EVENTS: Mapping[MessageStatus, type[NoticeStatusChanged]] = {
    MessageStatus.SENT: NoticeSent,
    MessageStatus.DELIVERED: NoticeDelivered,
    MessageStatus.FAILED: NoticeFailed,
    MessageStatus.UNDELIVERABLE: NoticeUndeliverable,
}


async def record_transition(conn: asyncpg.Connection, row: asyncpg.Record,
                            event: DeliveryEvent, at: datetime, *, sender: str | None = None,
                            reason: str | None = None,
                            fields: Mapping[str, Any] | None = None) -> None:
    status = next_status(MessageStatus(row["status"]), event)
    changes = {**(fields or {}), "status": status.value}
    if status in (MessageStatus.DELIVERED, MessageStatus.FAILED,
                  MessageStatus.UNDELIVERABLE):
        changes["final_at"] = at
    await repository.update_message(conn, row["message_id"], changes)
    model = STATUS_EVENTS[status]
    request_id = str(row["request_event_id"])
    await outbox.record(conn, Envelope(
        model(person_id=row["person_id"], notice_id=row["notice_id"],
              message_id=str(row["message_id"]), template_id=row["template_id"],
              status=status.value, sender=sender, reason=reason, at=at),
        source=SOURCE, correlation_id=row["correlation_id"] or request_id,
        causation_id=request_id))
