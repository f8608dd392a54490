"""The dispatcher: turns queued messages into SMS through the gateway, then applies the
gateway's delivery receipts (``receipts``).

- Wakes on ``NOTIFY chs_dispatch`` (a queued notice, a contact that arrived), when the next
  retry is due, or every poll interval.
- Claims due queued messages with ``for update skip locked``: several dispatchers may run,
  each message is handled by one at a time. The row stays locked while the gateway is called;
  a dispatcher that dies mid-send leaves the message queued and the next one resends it with
  the same message id, which the gateway treats as the same SMS.
- A batch costs a few statements, not a few per message: the claim, the recipients' contacts
  (``recipients.contacts_for``), the sends (``gateway.send_all``: the provider's
  ``send_many`` where it has one), the messages' changes and their events
  (``handlers.save_changes``), in one transaction. A change the batch's statements cannot
  store is stored alone (a savepoint per message), as is a send whose receipt came first.
- A push or broadcast is checked again as it is sent (``rules``; its caps were counted when it
  was queued): one whose person opted out since ends ``opted_out``; one due in the quiet hours
  (a retry, a backlog) waits for their end (``not_before``). The time is the dispatcher's
  clock (``clock``, settable in tests), which also says what is due.
- A message is queued once the directory has its recipient (until then the request consumer
  parks the notice); one whose recipient (``recipients``) has no contact still waits for it
  (the directory consumer wakes it) up to the grace period, then is undeliverable.
- Every status change records its ``chs.notices.*`` event in the outbox in the same
  transaction (``handlers.plan_move``), with the service's source (``ce_source``).
- Applies the gateway's delivery receipts, a batch per transaction
  (``handlers.apply_receipts``; one at a time, ``handlers.handle_record_receipt``, when that
  fails), then acknowledges them.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from chs_events import clock
from chs_events.consumer import DATABASE_UNAVAILABLE
from chs_events.db import connect
from chs_events.errors import InvalidInput
from chs_events.identity import mobile_home_province
from chs_events.masking import mask_mobile
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA
from chs_notification import handlers, repository
from chs_notification.commands import RecordReceipt
from chs_notification.domain import (
    DeliveryEvent,
    MessageStatus,
    MissingParam,
    choose_sender,
    render,
)
from chs_notification.gateway import (
    PermanentGatewayError,
    SendResult,
    SmsGateway,
    SmsMessage,
    TransientGatewayError,
    send_all,
)
from chs_notification.recipients import (
    Contacts,
    age_of,
    contacts_for,
    names_in,
    recipient_in,
    with_directory_params,
)
from chs_notification.rules import RULES, Outcome, Rules, decide
from chs_notification.settings import NotificationSettings
from chs_notification.templates import UnknownTemplate, get_template

log = logging.getLogger(__name__)

MIN_WAIT = 0.05  # seconds; rows due but locked by another dispatcher must not make us spin


@dataclass(frozen=True)
class Outgoing:
    message: SmsMessage
    fields: dict[str, Any]  # the message row's columns set by the send


# A message as claimed, what was sent for it, and the gateway's answer.
Unrecorded = tuple[asyncpg.Record, Outgoing, SendResult | BaseException]


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        gateway: SmsGateway,
        settings: NotificationSettings,
        *,
        clock: Callable[[], datetime] = clock.now,
        rules: Rules = RULES,
    ) -> None:
        """``clock``: the dispatcher's time (what is due, when a message is sent, the quiet
        hours), settable in tests; ``rules``: of the categories (``rules.RULES``)."""
        self._pool = pool
        self._clock = clock
        self._rules = rules
        self._gateway = gateway
        self._settings = settings
        self._source = settings.ce_source
        self._backoff = settings.send_backoff
        self._grace = timedelta(seconds=settings.contact_grace_seconds)
        self._wakeup = asyncio.Event()
        self._receipts = ReceiptApplier(pool, gateway, source=settings.ce_source)
        # Sends of the batch in hand, until their outcomes are committed.
        self._unrecorded: list[Unrecorded] = []

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
        """Claim one batch of due messages, render them, send them (``gateway.send_all``) and
        record the outcomes, in one transaction of a few statements; returns how many were
        claimed.

        When the database goes away before that transaction commits, the gateway has the
        messages but the database does not know: the outcomes are kept and recorded first
        thing once it is back, so the messages are not submitted a second time."""
        if self._unrecorded:
            await self._record_unrecorded()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await repository.claim_due(
                conn, self._settings.dispatch_batch_size, self._clock()
            )
            if not rows:
                return 0
            contacts = await contacts_for(
                conn, [(row["person_id"], row["params"], _params_of(row)) for row in rows]
            )
            changes: list[handlers.Change] = []
            prepared: list[tuple[asyncpg.Record, Outgoing]] = []
            for row in rows:
                try:
                    outgoing = self._prepare(changes, row, contacts)
                except Exception as error:  # noqa: BLE001 - logged there, retried
                    self._step_failed(changes, row, error)
                    continue
                if outgoing is not None:
                    prepared.append((row, outgoing))
            outcomes = await send_all(
                self._gateway,
                [outgoing.message for _, outgoing in prepared],
                timeout=self._settings.gateway_timeout_seconds,
            )
            self._unrecorded = [
                (row, outgoing, outcome)
                for (row, outgoing), outcome in zip(prepared, outcomes, strict=True)
            ]
            await self._record_sends(conn, changes, self._unrecorded)
        self._unrecorded = []
        return len(rows)

    async def _record_unrecorded(self) -> None:
        """Record the outcomes of sends whose transaction was lost with the database. A message
        that moved on meanwhile (the commit had landed after all, or another dispatcher took
        it) is left as it is."""
        async with self._pool.acquire() as conn, conn.transaction():
            locked = await repository.lock_messages(
                conn, [sent["message_id"] for sent, _, _ in self._unrecorded]
            )
            still: list[Unrecorded] = []
            for sent, outgoing, outcome in self._unrecorded:
                row = locked.get(sent["message_id"])
                if row is None or row["status"] != "queued" or row["attempts"] != sent["attempts"]:
                    continue  # it moved on meanwhile
                still.append((row, outgoing, outcome))
            await self._record_sends(conn, [], still)
        log.info(
            "recorded the sends of a lost transaction", extra={"messages": len(self._unrecorded)}
        )
        self._unrecorded = []

    async def _record_sends(
        self,
        conn: asyncpg.Connection,
        changes: list[handlers.Change],
        sends: Sequence[Unrecorded],
    ) -> None:
        """Store ``changes`` and the outcomes of ``sends``: together in two statements; a
        message whose send came after its receipt with that receipt (``early_receipt``), one
        at a time."""
        early: list[tuple[asyncpg.Record, handlers.Change]] = []
        for row, outgoing, outcome in sends:
            before = len(changes)
            try:
                self._record_send(changes, row, outgoing, outcome)
            except Exception as error:  # noqa: BLE001 - logged there, retried
                self._step_failed(changes, row, error)
            sent = len(changes) > before and changes[-1].row["status"] == MessageStatus.SENT
            if sent and row["early_receipt"]:
                early.append((row, changes.pop()))
        await self._save(conn, changes)
        for row, change in early:
            await self._save_one(conn, row, change, early_receipt=True)

    def _step_failed(
        self, changes: list[handlers.Change], row: asyncpg.Record, error: Exception
    ) -> None:
        """A step for one message failed: that must not stop the batch (the message is retried
        like a failed send)."""
        log.exception("dispatching a message failed", extra={"message_id": str(row["message_id"])})
        self._send_failed(changes, row, row["attempts"] + 1, f"{type(error).__name__}: {error}")

    async def _save(self, conn: asyncpg.Connection, changes: list[handlers.Change]) -> None:
        """The batch's changes in two statements, in a savepoint; when those fail, each
        message's alone (``_save_one``); a database outage stops it."""
        if not changes:
            return
        try:
            async with conn.transaction():
                await handlers.save_changes(conn, changes)
            return
        except DATABASE_UNAVAILABLE:
            raise
        except Exception:
            log.exception(
                "recording a batch failed; recording its messages one at a time",
                extra={"messages": len(changes)},
            )
        for change in changes:
            await self._save_one(conn, change.row, change)

    async def _save_one(
        self,
        conn: asyncpg.Connection,
        row: Mapping[str, Any],
        change: handlers.Change,
        *,
        early_receipt: bool = False,
    ) -> None:
        """One message's change in a savepoint (and the receipt that came before its send was
        recorded, ``row`` as claimed); when that fails, the message is retried like a failed
        send."""
        try:
            async with conn.transaction():
                await handlers.save_change(conn, change)
                if early_receipt:
                    await handlers.apply_early_receipt(conn, self._source, row)
            return
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as error:
            log.exception(
                "dispatching a message failed", extra={"message_id": str(row["message_id"])}
            )
            failed: list[handlers.Change] = []
            self._send_failed(failed, row, row["attempts"] + 1, f"{type(error).__name__}: {error}")
        async with conn.transaction():
            await handlers.save_change(conn, failed[0])

    def _prepare(
        self, changes: list[handlers.Change], row: asyncpg.Record, contacts: Contacts
    ) -> Outgoing | None:
        """The SMS to send for a message, or None when it cannot be sent (now or ever: its
        change is then in ``changes``)."""
        now = self._clock()
        template = get_template(row["template_id"])  # known: checked when the notice came
        if not self._rules.is_service(template.category) and self._ruled_out(
            changes, row, template.category, now
        ):
            return None
        recipient = recipient_in(contacts, row["person_id"], row["to_mobile"])
        params = (
            None
            if recipient is None
            else with_directory_params(
                row["params"],
                template.params,
                recipient,
                names_in(contacts, row["params"], template.params),
            )
        )
        if recipient is None or params is None:
            grace_ends = (row["not_before"] or row["created_at"]) + self._grace
            if now < grace_ends:
                # The directory consumer makes it due when the contact arrives; the recheck
                # covers a contact committed while this dispatcher held the message.
                recheck = now + timedelta(seconds=self._settings.dispatch_poll_interval)
                changes.append(
                    handlers.changed(
                        row,
                        {
                            "next_attempt_at": min(grace_ends, recheck),
                            "last_error": "waiting for the contact",
                        },
                    )
                )
                return None
            reason = "no contact" if recipient is None else "no name in the contact directory"
            self._finish(changes, row, DeliveryEvent.UNREACHABLE, now, reason=reason)
            return None
        masked = mask_mobile(recipient.mobile)
        age = age_of(recipient.birth_date, now.astimezone(CHINA).date())
        try:
            text = render(template, params, age=age)
        except MissingParam as error:
            self._finish(
                changes, row, DeliveryEvent.UNREACHABLE, now, reason=f"cannot render: {error}"
            )
            return None
        try:
            province = mobile_home_province(recipient.mobile)
        except InvalidInput as error:
            self._finish(
                changes,
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

    def _ruled_out(
        self, changes: list[handlers.Change], row: asyncpg.Record, category: str, now: datetime
    ) -> bool:
        """A push or broadcast checked again as it is sent (``rules.decide``, its caps counted
        when it was queued): True when it is not sent now, its change in ``changes``: the
        person opted out since (``opted_out``), or it came due in the quiet hours (a retry, a
        backlog): queued again until their end."""
        decision = decide(self._rules, category, now, opted_out=row["opted_out"])
        if decision.outcome is Outcome.SEND:
            return False
        if decision.outcome is Outcome.DEFER:
            until = decision.not_before
            changes.append(handlers.changed(row, {"not_before": until, "next_attempt_at": until}))
            return True
        assert decision.reason is not None
        changes.append(
            handlers.ruled_out(self._source, row, decision.outcome, decision.reason, now)
        )
        log.info(
            "message not sent: the rules of its category",
            extra={"message_id": str(row["message_id"]), "outcome": decision.outcome.value},
        )
        return True

    def _record_send(
        self,
        changes: list[handlers.Change],
        row: asyncpg.Record,
        outgoing: Outgoing,
        outcome: SendResult | BaseException,
    ) -> None:
        now = self._clock()
        fields = {**outgoing.fields, "attempts": row["attempts"] + 1}
        if isinstance(outcome, (TransientGatewayError, TimeoutError)):
            self._send_failed(
                changes, row, fields["attempts"], str(outcome) or "gateway timeout", fields
            )
            return
        if isinstance(outcome, PermanentGatewayError):
            self._finish(
                changes, row, DeliveryEvent.UNREACHABLE, now, reason=str(outcome), fields=fields
            )
            return
        if isinstance(outcome, BaseException):
            raise outcome  # unexpected: _guarded retries it like a failed send
        fields["provider_message_id"] = outcome.provider_message_id
        if not outcome.accepted:
            self._finish(
                changes,
                row,
                DeliveryEvent.UNREACHABLE,
                now,
                reason="declined by the provider",
                fields=fields,
            )
            return
        sender = outgoing.message.sender
        changes.append(
            handlers.plan_move(
                self._source,
                row,
                DeliveryEvent.GATEWAY_ACCEPTED,
                now,
                sender=sender,
                fields={**fields, "sent_at": now, "last_error": None},
            )
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

    def _send_failed(
        self,
        changes: list[handlers.Change],
        row: asyncpg.Record | Mapping[str, Any],
        attempts: int,
        error: str,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        fields = {**(fields or {}), "attempts": attempts, "last_error": error[:1000]}
        if not self._backoff.exhausted(attempts):
            delay = self._backoff.delay(attempts)
            fields["next_attempt_at"] = self._clock() + timedelta(seconds=delay)
            changes.append(handlers.changed(row, fields))
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
        self._finish(
            changes,
            row,
            DeliveryEvent.RETRIES_EXHAUSTED,
            self._clock(),
            reason=f"{attempts} attempts failed, last: {error}",
            fields=fields,
        )

    def _finish(
        self,
        changes: list[handlers.Change],
        row: asyncpg.Record | Mapping[str, Any],
        event: DeliveryEvent,
        now: datetime,
        *,
        reason: str,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        changes.append(
            handlers.plan_move(
                self._source,
                row,
                event,
                now,
                reason=reason,
                fields={**(fields or {}), "last_error": reason},
            )
        )
        log.warning(
            "message not sent",
            extra={
                "message_id": str(row["message_id"]),
                "notice_id": row["notice_id"],
                "reason": reason,
            },
        )


def _params_of(row: asyncpg.Record) -> tuple[str, ...]:
    """The params of a message's template (none when it is no longer known: ``_prepare``
    fails it)."""
    try:
        return get_template(row["template_id"]).params
    except UnknownTemplate:
        return ()


class ReceiptApplier:
    """Fetches the gateway's receipts, applies them in one transaction
    (``handlers.apply_receipts``; each in a unit of work of its own,
    ``handlers.handle_record_receipt``, when that fails), then acknowledges them."""

    def __init__(self, pool: asyncpg.Pool, gateway: SmsGateway, *, source: str) -> None:
        self._pool = pool
        self._gateway = gateway
        self._source = source

    async def apply_new(self) -> int:
        """Apply the gateway's receipts, then acknowledge them; duplicate and late ones are
        ignored (and acknowledged)."""
        receipts = await self._gateway.receipts()
        if not receipts:
            return 0
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await handlers.apply_receipts(conn, self._source, receipts)
        except DATABASE_UNAVAILABLE:
            raise
        except Exception:
            log.exception(
                "applying a batch of receipts failed; applying them one at a time",
                extra={"receipts": len(receipts)},
            )
            for receipt in receipts:
                async with self._pool.acquire() as conn:
                    await handlers.handle_record_receipt(
                        UnitOfWork(conn, source=self._source), RecordReceipt(receipt)
                    )
        await self._gateway.acknowledge([receipt.message_id for receipt in receipts])
        return len(receipts)
