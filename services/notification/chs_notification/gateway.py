"""The port through which every SMS leaves the platform.

Providers (the recording local gateway, a carrier's HTTP API) implement `SmsGateway`.

A provider may also take a batch (``send_many``: a carrier's send window); ``send_all`` uses
it when it has one, and concurrent ``send``s otherwise.

`SmsMessage.message_id` is an idempotency key: a provider must treat a second `send` with
the same message_id as the same message, returning the original `SendResult` and never
sending a second SMS. Dispatch is at-least-once (a process can die after the provider
accepted a message and before its status is recorded), so a resend must be harmless.
"""

import asyncio
from collections.abc import Sequence
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


class BatchSmsGateway(SmsGateway, Protocol):
    async def send_many(self, messages: Sequence[SmsMessage]) -> list[SendResult | Exception]:
        """``send`` for each message, in a few calls: the outcomes in the messages' order,
        the error a ``send`` would raise in place of its result."""
        ...


async def send_all(
    gateway: SmsGateway, messages: Sequence[SmsMessage], *, timeout: float
) -> list[SendResult | BaseException]:
    """Send the messages, through ``send_many`` where the gateway has it; a send not answered
    within ``timeout`` seconds is a ``TimeoutError``."""
    if not messages:
        return []
    send_many = getattr(gateway, "send_many", None)
    if send_many is None:
        return await asyncio.gather(
            *(asyncio.wait_for(gateway.send(message), timeout) for message in messages),
            return_exceptions=True,
        )
    try:
        outcomes: list[SendResult | Exception] = await asyncio.wait_for(
            send_many(messages), timeout
        )
    except Exception as error:  # noqa: BLE001 - a timeout, or the provider's outage: each send's
        return [error] * len(messages)
    return list(outcomes)
