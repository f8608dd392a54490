"""The port through which every SMS leaves the platform.

Providers (the recording local gateway, a carrier's HTTP API) implement `SmsGateway`.

`SmsMessage.message_id` is an idempotency key: a provider must treat a second `send` with
the same message_id as the same message, returning the original `SendResult` and never
sending a second SMS. Dispatch is at-least-once (a process can die after the provider
accepted a message and before its status is recorded), so a resend must be harmless.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    sender: str
    mobile: str = field(repr=False)  # kept out of reprs so a logged message never shows it
    text: str


@dataclass(frozen=True)
class SendResult:
    """`accepted` is False when the provider declined the message in an ordinary reply (for
    example its content filter refused it); like `PermanentGatewayError`, it is not retried."""

    provider_message_id: str
    accepted: bool


@dataclass(frozen=True)
class DeliveryReceipt:
    message_id: str
    provider_message_id: str
    delivered: bool
    error_code: str | None
    received_at: datetime  # timezone-aware


class TransientGatewayError(Exception):
    """The send may succeed later (timeout, throttling, provider outage): retry it."""


class PermanentGatewayError(Exception):
    """The send can never succeed (e.g. an invalid number): do not retry it."""


class SmsGateway(Protocol):
    async def send(self, message: SmsMessage) -> SendResult:
        """Hand the message to the provider; raises TransientGatewayError or
        PermanentGatewayError when it was not taken."""
        ...

    async def receipts(self) -> list[DeliveryReceipt]:
        """Delivery receipts not yet acknowledged; a receipt comes again until it is."""
        ...

    async def acknowledge(self, message_ids: list[str]) -> None:
        """The receipts of these messages are applied durably; stop handing them out."""
        ...
