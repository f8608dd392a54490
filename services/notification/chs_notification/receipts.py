"""Applying the gateway's delivery receipts to the messages they report on.

- A receipt moves a sent message to delivered or failed; duplicate and late ones are ignored.
- A receipt can overtake the commit of its send (a dispatcher died after the gateway took the
  message): it is kept on the queued message and applied when the resend marks it sent.
- A receipt is acknowledged to the gateway only once applied: one not applied (the database
  was unavailable, the dispatcher died) comes again in a later round.
"""
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from chs_notification import repository
from chs_notification.domain import DeliveryEvent, InvalidTransition, MessageStatus, next_status
from chs_notification.gateway import DeliveryReceipt, SmsGateway
from chs_notification.transitions import record_transition

log = logging.getLogger(__name__)


class ReceiptApplier:
    def __init__(self, pool: asyncpg.Pool, gateway: SmsGateway) -> None:
        self._pool = pool
        self._gateway = gateway

    async def apply_new(self) -> int:
        """Apply the gateway's receipts, then acknowledge them; duplicate and late ones are
        ignored (and acknowledged)."""
        receipts = await self._gateway.receipts()
        for receipt in receipts:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await repository.lock_message(conn, receipt.message_id)
                if row is None:
                    log.warning("receipt for an unknown message",
                                extra={"message_id": receipt.message_id})
                else:
                    await _apply_receipt(conn, row, receipt)
        await self._gateway.acknowledge([receipt.message_id for receipt in receipts])
        return len(receipts)


async def apply_early_receipt(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """Apply the receipt kept on a message (``row`` as claimed) whose send was just recorded."""
    sent = await repository.lock_message(conn, row["message_id"])
    await _apply_receipt(conn, sent, _receipt_from_json(str(row["message_id"]),
                                                        row["early_receipt"]))


async def _apply_receipt(conn: asyncpg.Connection, row: asyncpg.Record,
                         receipt: DeliveryReceipt) -> None:
    if row["status"] == MessageStatus.QUEUED:
        # The receipt overtook the commit of its send (a dispatcher died after the gateway
        # took the message): keep it until the resend marks the message sent.
        await repository.update_message(conn, row["message_id"],
                                        {"early_receipt": _receipt_to_json(receipt)})
        return
    event = (DeliveryEvent.RECEIPT_DELIVERED if receipt.delivered
             else DeliveryEvent.RECEIPT_FAILED)
    try:
        next_status(MessageStatus(row["status"]), event)
    except InvalidTransition:
        log.info("duplicate or late receipt ignored",
                 extra={"message_id": receipt.message_id, "status": row["status"],
                        "receipt": event.value})
        return
    at = receipt.received_at
    fields: dict[str, Any] = {"early_receipt": None}
    reason = None
    if receipt.delivered:
        fields["delivered_at"] = at
    else:
        reason = f"not delivered: {receipt.error_code or 'no code'}"
        fields["last_error"] = reason
    await record_transition(conn, row, event, at, sender=row["sender"], reason=reason,
                            fields=fields)


def _receipt_to_json(receipt: DeliveryReceipt) -> dict[str, Any]:
    return {"provider_message_id": receipt.provider_message_id,
            "delivered": receipt.delivered, "error_code": receipt.error_code,
            "received_at": receipt.received_at.isoformat()}


def _receipt_from_json(message_id: str, data: Mapping[str, Any]) -> DeliveryReceipt:
    return DeliveryReceipt(message_id=message_id,
                           provider_message_id=data["provider_message_id"],
                           delivered=bool(data["delivered"]), error_code=data["error_code"],
                           received_at=datetime.fromisoformat(data["received_at"]))
