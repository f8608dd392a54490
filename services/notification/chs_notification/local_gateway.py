"""The local SMS gateway: records messages in its own table and makes delivery receipts.

It stands in for a provider's side during development and tests (real providers' adapters
come later). Its table ``local_gateway_sms`` is what the provider would keep, not the
service's state: one row per SMS, keyed by the message id (the idempotency key of the
``SmsGateway`` port), so a resend of the same message is never a second SMS; ``submissions``
counts the submit calls of each message all the same, since a carrier's gateway without such a
key would have sent one SMS per call.

Failures are simulated at configured rates, reproducibly with a seeded ``random.Random``:
- ``failure_rate``: share of sends that raise ``TransientGatewayError``. Half of them happen
  before the gateway takes the message, half after (the SMS is recorded but the reply is
  lost), which is the case that makes idempotent resends necessary;
- ``undelivered_rate``: share of accepted messages whose receipt says not delivered.
"""

import logging
import random
import uuid
from collections.abc import Sequence
from enum import Enum

import asyncpg

from chs_events.errors import InvalidInput
from chs_events.identity import normalize_mobile
from chs_events.masking import mask_mobile
from chs_notification.gateway import (
    DeliveryReceipt,
    PermanentGatewayError,
    SendResult,
    SmsMessage,
    TransientGatewayError,
)

log = logging.getLogger(__name__)

UNDELIVERED_CODE = "LOCAL:UNDELIVERED"


class SendOutcome(Enum):
    ACCEPTED = "accepted"
    FAILED_BEFORE_ACCEPTING = "failed_before_accepting"
    REPLY_LOST = "reply_lost"  # accepted and recorded, but the caller sees a failure


def check_rate(name: str, rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {rate}")
    return rate


def send_outcome(roll: float, failure_rate: float) -> SendOutcome:
    """``roll`` is uniform in [0, 1): below the rate the send fails, split half and half."""
    if roll < failure_rate / 2:
        return SendOutcome.FAILED_BEFORE_ACCEPTING
    if roll < failure_rate:
        return SendOutcome.REPLY_LOST
    return SendOutcome.ACCEPTED


def receipt_delivered(roll: float, undelivered_rate: float) -> bool:
    return roll >= undelivered_rate


class LocalGateway:
    """Implements ``chs_notification.gateway.SmsGateway`` on the service's database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        failure_rate: float = 0.0,
        undelivered_rate: float = 0.0,
        rng: random.Random | None = None,
        *,
        receipt_batch: int = 500,
    ) -> None:
        self._pool = pool
        self._failure_rate = check_rate("failure_rate", failure_rate)
        self._undelivered_rate = check_rate("undelivered_rate", undelivered_rate)
        self._rng = rng or random.Random()
        self._receipt_batch = receipt_batch

    async def send(self, message: SmsMessage) -> SendResult:
        [outcome] = await self.send_many([message])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def send_many(self, messages: Sequence[SmsMessage]) -> list[SendResult | Exception]:
        """The messages taken are recorded in one statement; each outcome is drawn as for a
        ``send`` of its own, in the messages' order."""
        outcomes: list[SendResult | Exception | None] = [None] * len(messages)
        taken: list[tuple[int, SmsMessage, str, SendOutcome]] = []
        for index, message in enumerate(messages):
            try:
                mobile = normalize_mobile(message.mobile)
            except InvalidInput as error:
                outcomes[index] = PermanentGatewayError(
                    f"invalid number {mask_mobile(message.mobile)}: {error}"
                )
                continue
            outcome = send_outcome(self._rng.random(), self._failure_rate)
            if outcome is SendOutcome.FAILED_BEFORE_ACCEPTING:
                outcomes[index] = TransientGatewayError(
                    "local gateway: simulated outage, message not taken"
                )
                continue
            taken.append((index, message, mobile, outcome))
        if taken:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(  # a resend: the same SMS, counted
                    """insert into local_gateway_sms
                           (message_id, provider_message_id, sender, mobile, text)
                       select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
                                            $5::text[])
                       on conflict (message_id) do update
                           set submissions = local_gateway_sms.submissions + 1
                       returning message_id, provider_message_id""",
                    [uuid.UUID(message.message_id) for _, message, _, _ in taken],
                    [f"LG{uuid.uuid4().hex}" for _ in taken],
                    [message.sender for _, message, _, _ in taken],
                    [mobile for _, _, mobile, _ in taken],
                    [message.text for _, message, _, _ in taken],
                )
            provider_ids = {row["message_id"]: row["provider_message_id"] for row in rows}
            for index, message, _, outcome in taken:
                outcomes[index] = (
                    TransientGatewayError("local gateway: simulated timeout, reply lost")
                    if outcome is SendOutcome.REPLY_LOST
                    else SendResult(
                        provider_message_id=provider_ids[uuid.UUID(message.message_id)],
                        accepted=True,
                    )
                )
        return [outcome for outcome in outcomes if outcome is not None]

    async def receipts(self) -> list[DeliveryReceipt]:
        """Receipts of accepted messages not acknowledged yet. A message's outcome is decided
        the first time its receipt is handed out and stays the same when handed out again."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """select message_id, receipt_status from local_gateway_sms
                   where receipt_acknowledged_at is null order by accepted_at, message_id
                   limit $1 for update skip locked""",
                self._receipt_batch,
            )
            undecided = [row["message_id"] for row in rows if row["receipt_status"] is None]
            if undecided:
                outcomes = [
                    receipt_delivered(self._rng.random(), self._undelivered_rate) for _ in undecided
                ]
                await conn.execute(
                    """update local_gateway_sms as sms
                       set receipt_status = r.status, receipt_at = clock_timestamp()
                       from unnest($1::uuid[], $2::text[]) as r(message_id, status)
                       where sms.message_id = r.message_id""",
                    undecided,
                    ["delivered" if delivered else "failed" for delivered in outcomes],
                )
            reported = await conn.fetch(
                """select message_id, provider_message_id, receipt_status, receipt_at
                   from local_gateway_sms where message_id = any($1::uuid[])
                   order by accepted_at, message_id""",
                [row["message_id"] for row in rows],
            )
        return [
            DeliveryReceipt(
                message_id=str(row["message_id"]),
                provider_message_id=row["provider_message_id"],
                delivered=row["receipt_status"] == "delivered",
                error_code=None if row["receipt_status"] == "delivered" else UNDELIVERED_CODE,
                received_at=row["receipt_at"],
            )
            for row in reported
        ]

    async def acknowledge(self, message_ids: list[str]) -> None:
        if message_ids:
            await self._pool.execute(
                """update local_gateway_sms set receipt_acknowledged_at = clock_timestamp()
                   where message_id = any($1::uuid[])""",
                [uuid.UUID(message_id) for message_id in message_ids],
            )
