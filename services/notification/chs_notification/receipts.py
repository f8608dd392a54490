"""The gateway's delivery receipts: what one means for its message, and how one that overtook
the commit of its send is kept on the queued message (``handlers.handle_record_receipt``
applies them; the dispatcher fetches and acknowledges them).

- A receipt moves a sent message to delivered or failed; duplicate and late ones are ignored.
- A receipt can overtake the commit of its send (a dispatcher died after the gateway took the
  message): it is kept on the queued message and applied when the resend marks it sent.
- A receipt is acknowledged to the gateway only once applied: one not applied (the database
  was unavailable, the dispatcher died) comes again in a later round.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chs_notification.domain import DeliveryEvent
from chs_notification.gateway import DeliveryReceipt


def delivery_event(receipt: DeliveryReceipt) -> DeliveryEvent:
    return DeliveryEvent.RECEIPT_DELIVERED if receipt.delivered else DeliveryEvent.RECEIPT_FAILED


def receipt_to_json(receipt: DeliveryReceipt) -> dict[str, Any]:
    return {
        "provider_message_id": receipt.provider_message_id,
        "delivered": receipt.delivered,
        "error_code": receipt.error_code,
        "received_at": receipt.received_at.isoformat(),
    }


def receipt_from_json(message_id: str, data: Mapping[str, Any]) -> DeliveryReceipt:
    return DeliveryReceipt(
        message_id=message_id,
        provider_message_id=data["provider_message_id"],
        delivered=bool(data["delivered"]),
        error_code=data["error_code"],
        received_at=datetime.fromisoformat(data["received_at"]),
    )
