"""The dispatcher: turns queued messages into SMS through the gateway, then applies the
gateway's delivery receipts (``receipts``).

- Wakes on ``NOTIFY chs_dispatch`` (a queued notice, a contact that arrived), when the next
  retry is due, or every poll interval.
- Claims due queued messages with ``for update skip locked``: several dispatchers may run,
  each message is handled by one at a time. The row stays locked while the gateway is called;
  a dispatcher that dies mid-send leaves the message queued and the next one resends it with
  the same message id, which the gateway treats as the same SMS.
- A message is queued once the directory has its recipient (until then the request consumer
  parks the notice); one whose recipient (``recipients``) has no contact still waits for it
  (the directory consumer wakes it) up to the grace period, then is undeliverable.
- Every status change records its ``chs.notices.*`` event in the outbox in the same
  transaction (``handlers.move_message``), with the service's source (``ce_source``).
- Applies the gateway's delivery receipts (``handlers.handle_record_receipt``), then
  acknowledges them.
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from chs_events.consumer import DATABASE_UNAVAILABLE
from chs_events.db import connect
from chs_events.errors import InvalidInput
from chs_events.identity import mobile_home_province
from chs_events.masking import mask_mobile
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA
from chs_notification import handlers, repository
from chs_notification.commands import RecordReceipt
from chs_notification.domain import DeliveryEvent, MissingParam, choose_sender, render
from chs_notification.gateway import (
    PermanentGatewayError,
    SendResult,
    SmsGateway,
    SmsMessage,
    TransientGatewayError,
)
from chs_notification.recipients import (
    age_of,
    find_recipient,
    referenced_names,
    with_directory_params,
)
from chs_notification.settings import NotificationSettings
from chs_notification.templates import get_template

log = logging.getLogger(__name__)
T = TypeVar("T")

MIN_WAIT = 0.05  # seconds; rows due but locked by another dispatcher must not make us spin


@dataclass(frozen=True)
class Outgoing:
    message: SmsMessage
    fields: dict[str, Any]  # the message row's columns set by the send


class Dispatcher:
    def __init__(
        self, pool: asyncpg.Pool, gateway: SmsGateway, settings: NotificationSettings
    ) -> None:
        self._pool = pool
        self._gateway = gateway
        self._settings = settings
        self._source = settings.ce_source
        self._backoff = settings.send_backoff
        self._grace = timedelta(seconds=settings.contact_grace_seconds)
        self._wakeup = asyncio.Event()
        self._receipts = ReceiptApplier(pool, gateway, source=settings.ce_source)
        # Sends of the batch in hand, until their outcomes are committed.
        self._unrecorded: list[tuple[asyncpg.Record, Outgoing, SendResult | BaseException]] = []

    # ------------------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dispatcher started", extra={"batch_size": self._settings.dispatch_batch_size})
        while not stop.is_set():
            listener: asyncpg.Connection | None = None
            try:
                listener = await connect(self._settings.database_dsn)
                await listener.add_listener(
                    repository.DISPATCH_CHANNEL, lambda *_: self._wakeup.set()
                )
                while not stop.is_set() and not listener.is_closed():
                    self._wakeup.clear()
                    await self.run_once()
                    await self._wait(stop, await self._next_wait())
            except (*DATABASE_UNAVAILABLE, asyncpg.PostgresError) as error:
                # e.g. the server restarting (AdminShutdownError): start over after a pause
                log.warning(
                    "database unavailable; dispatcher retrying", extra={"error": repr(error)}
                )
                await self._wait(stop, self._settings.dispatch_poll_interval)
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()

    async def run_once(self) -> None:
        """Send every due message, then apply the receipts that arrived."""
        while await self.dispatch_due() == self._settings.dispatch_batch_size:
            pass
        await self._receipts.apply_new()

    async def _next_wait(self) -> float:
        async with self._pool.acquire() as conn:
            due_in = await repository.seconds_until_next_due(conn)
        poll = self._settings.dispatch_poll_interval
        if due_in is None:
            return poll
        return min(poll, max(MIN_WAIT, due_in))

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -------------------------------------------------------------------------------- sending

    async def dispatch_due(self) -> int:
        """Claim one batch of due messages, send them concurrently and record the outcomes,
        in one transaction; returns how many were claimed.

        When the database goes away before that transaction commits, the gateway has the
        messages but the database does not know: the outcomes are kept and recorded first
        thing once it is back, so the messages are not submitted a second time."""
        if self._unrecorded:
            await self._record_unrecorded()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await repository.claim_due(conn, self._settings.dispatch_batch_size)
            prepared: list[tuple[asyncpg.Record, Outgoing]] = []
            for row in rows:
                outgoing = await self._guarded(conn, row, self._prepare(conn, row))
                if outgoing is not None:
                    prepared.append((row, outgoing))
            outcomes = await asyncio.gather(
                *(self._send(outgoing.message) for _, outgoing in prepared), return_exceptions=True
            )
            self._unrecorded = [
                (row, outgoing, outcome)
                for (row, outgoing), outcome in zip(prepared, outcomes, strict=True)
            ]
            for row, outgoing, outcome in self._unrecorded:
                await self._guarded(conn, row, self._record_send(conn, row, outgoing, outcome))
        self._unrecorded = []
        return len(rows)

    async def _record_unrecorded(self) -> None:
        """Record the outcomes of sends whose transaction was lost with the database. A message
        that moved on meanwhile (the commit had landed after all, or another dispatcher took
        it) is left as it is."""
        async with self._pool.acquire() as conn, conn.transaction():
            for sent, outgoing, outcome in self._unrecorded:
                row = await repository.lock_message(conn, sent["message_id"])
                if row is None or row["status"] != "queued" or row["attempts"] != sent["attempts"]:
                    continue
                await self._guarded(conn, row, self._record_send(conn, row, outgoing, outcome))
        log.info(
            "recorded the sends of a lost transaction", extra={"messages": len(self._unrecorded)}
        )
        self._unrecorded = []

    async def _guarded(
        self, conn: asyncpg.Connection, row: asyncpg.Record, step: Awaitable[T]
    ) -> T | None:
        """Run a step for one message in a savepoint: a failure there must not stop the batch
        (the message is retried like a failed send); a database outage stops it."""
        try:
            async with conn.transaction():
                return await step
        except DATABASE_UNAVAILABLE:
            if inspect.iscoroutine(step):
                step.close()  # the savepoint failed before the step began
            raise
        except Exception as error:
            log.exception(
                "dispatching a message failed", extra={"message_id": str(row["message_id"])}
            )
            async with conn.transaction():
                await self._send_failed(
                    conn, row, row["attempts"] + 1, f"{type(error).__name__}: {error}"
                )
            return None

    async def _prepare(self, conn: asyncpg.Connection, row: asyncpg.Record) -> Outgoing | None:
        """The SMS to send for a message, or None when it cannot be sent (now or ever)."""
        now = datetime.now(UTC)
        recipient = await find_recipient(conn, row["person_id"], row["to_mobile"])
        template = get_template(row["template_id"])  # known: checked when the notice came
        params = (
            None
            if recipient is None
            else with_directory_params(
                row["params"],
                template.params,
                recipient,
                await referenced_names(conn, row["params"], template.params),
            )
        )
        if recipient is None or params is None:
            grace_ends = row["created_at"] + self._grace
            if now < grace_ends:
                # The directory consumer makes it due when the contact arrives; the recheck
                # covers a contact committed while this dispatcher held the message.
                recheck = now + timedelta(seconds=self._settings.dispatch_poll_interval)
                await repository.update_message(
                    conn,
                    row["message_id"],
                    {
                        "next_attempt_at": min(grace_ends, recheck),
                        "last_error": "waiting for the contact",
                    },
                )
                return None
            reason = "no contact" if recipient is None else "no name in the contact directory"
            await self._finish(conn, row, DeliveryEvent.UNREACHABLE, now, reason=reason)
            return None
        masked = mask_mobile(recipient.mobile)
        try:
            text = render(
                template, params, age=age_of(recipient.birth_date, now.astimezone(CHINA).date())
            )
        except MissingParam as error:
            await self._finish(
                conn, row, DeliveryEvent.UNREACHABLE, now, reason=f"cannot render: {error}"
            )
            return None
        try:
            province = mobile_home_province(recipient.mobile)
        except InvalidInput as error:
            await self._finish(
                conn,
                row,
                DeliveryEvent.UNREACHABLE,
                now,
                reason=f"invalid mobile {masked}: {error.reason}",
                fields={"mobile_masked": masked},
            )
            return None
        sender = choose_sender(province, self._settings.home_province)
        shown = text
        if template.secret_params:  # the phone gets the code; the record and the API do not
            age = age_of(recipient.birth_date, now.astimezone(CHINA).date())
            shown = render(
                template, {**params, **dict.fromkeys(template.secret_params, "******")}, age=age
            )
        return Outgoing(
            SmsMessage(
                message_id=str(row["message_id"]), sender=sender, mobile=recipient.mobile, text=text
            ),
            fields={
                "text": shown,
                "sender": sender,
                "mobile_masked": masked,
                "recipient_person_id": recipient.person_id,
            },
        )

    async def _send(self, message: SmsMessage) -> SendResult:
        return await asyncio.wait_for(
            self._gateway.send(message), self._settings.gateway_timeout_seconds
        )

    async def _record_send(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        outgoing: Outgoing,
        outcome: SendResult | BaseException,
    ) -> None:
        now = datetime.now(UTC)
        fields = {**outgoing.fields, "attempts": row["attempts"] + 1}
        if isinstance(outcome, (TransientGatewayError, TimeoutError)):
            await self._send_failed(
                conn, row, fields["attempts"], str(outcome) or "gateway timeout", fields
            )
            return
        if isinstance(outcome, PermanentGatewayError):
            await self._finish(
                conn, row, DeliveryEvent.UNREACHABLE, now, reason=str(outcome), fields=fields
            )
            return
        if isinstance(outcome, BaseException):
            raise outcome  # unexpected: _guarded retries it like a failed send
        fields["provider_message_id"] = outcome.provider_message_id
        if not outcome.accepted:
            await self._finish(
                conn,
                row,
                DeliveryEvent.UNREACHABLE,
                now,
                reason="declined by the provider",
                fields=fields,
            )
            return
        sender = outgoing.message.sender
        await handlers.move_message(
            conn,
            self._source,
            row,
            DeliveryEvent.GATEWAY_ACCEPTED,
            now,
            sender=sender,
            fields={**fields, "sent_at": now, "last_error": None},
        )
        log.debug(  # the message row records it; one line per SMS is too many at INFO
            "sms sent",
            extra={
                "message_id": str(row["message_id"]),
                "notice_id": row["notice_id"],
                "mobile": outgoing.fields["mobile_masked"],
                "sender": sender,
                "attempts": fields["attempts"],
            },
        )
        if row["early_receipt"]:
            await handlers.apply_early_receipt(conn, self._source, row)

    async def _send_failed(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        attempts: int,
        error: str,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        fields = {**(fields or {}), "attempts": attempts, "last_error": error[:1000]}
        if not self._backoff.exhausted(attempts):
            delay = self._backoff.delay(attempts)
            fields["next_attempt_at"] = datetime.now(UTC) + timedelta(seconds=delay)
            await repository.update_message(conn, row["message_id"], fields)
            log.warning(
                "send failed; retrying",
                extra={
                    "message_id": str(row["message_id"]),
                    "attempts": attempts,
                    "retry_in_s": delay,
                    "error": error,
                },
            )
            return
        await self._finish(
            conn,
            row,
            DeliveryEvent.RETRIES_EXHAUSTED,
            datetime.now(UTC),
            reason=f"{attempts} attempts failed, last: {error}",
            fields=fields,
        )

    async def _finish(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        event: DeliveryEvent,
        now: datetime,
        *,
        reason: str,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        await handlers.move_message(
            conn,
            self._source,
            row,
            event,
            now,
            reason=reason,
            fields={**(fields or {}), "last_error": reason},
        )
        log.warning(
            "message not sent",
            extra={
                "message_id": str(row["message_id"]),
                "notice_id": row["notice_id"],
                "reason": reason,
            },
        )


class ReceiptApplier:
    """Fetches the gateway's receipts, applies each in a unit of work of its own
    (``handlers.handle_record_receipt``), then acknowledges them."""

    def __init__(self, pool: asyncpg.Pool, gateway: SmsGateway, *, source: str) -> None:
        self._pool = pool
        self._gateway = gateway
        self._source = source

    async def apply_new(self) -> int:
        """Apply the gateway's receipts, then acknowledge them; duplicate and late ones are
        ignored (and acknowledged)."""
        receipts = await self._gateway.receipts()
        for receipt in receipts:
            async with self._pool.acquire() as conn:
                await handlers.handle_record_receipt(
                    UnitOfWork(conn, source=self._source), RecordReceipt(receipt)
                )
        await self._gateway.acknowledge([receipt.message_id for receipt in receipts])
        return len(receipts)
