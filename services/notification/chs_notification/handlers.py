"""Command handlers of the notification service: each runs in one unit of work.

The contact directory's command releases the notices parked awaiting the contact and wakes the
messages waiting for it (and tells a mobile change's numbers what they need: the new one its
code, the previous one the change); a requested notice is queued once per notice id (and wakes
the dispatcher) once the directory has its recipient, parked until then; a message's status
moves (``model.Message.move``, through ``plan_move``) are saved with the ``chs.notices.*``
event announcing them, caused by the notice's request and carrying its correlation id, whoever
moves it (the dispatcher, a receipt, a death): one at a time (``save_change``) or a batch in
two statements (``save_changes``).
"""

import logging
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from chs_events import outbox, parking
from chs_events.envelope import Envelope
from chs_events.errors import Conflict
from chs_events.events.notices import PushPreferenceChanged, notice_id
from chs_events.masking import mask_mobile
from chs_events.processing import Awaiting
from chs_events.unit_of_work import UnitOfWork
from chs_notification import recipients, repository
from chs_notification.commands import (
    RecordContact,
    RecordReceipt,
    RequestNotice,
    SetPushPreference,
)
from chs_notification.domain import (
    CONTACT_CHANGED,
    CONTACT_CONFIRMATION,
    DeliveryEvent,
    InvalidTransition,
    MessageStatus,
    check_notice,
)
from chs_notification.gateway import DeliveryReceipt
from chs_notification.model import Message, message_id_for
from chs_notification.receipts import delivery_event, receipt_from_json, receipt_to_json
from chs_notification.recipients import awaited_in, referenced_ids, withheld_in
from chs_notification.rules import RULES, Counts, Outcome, Rules, decide
from chs_notification.settings import still_sent_after_death
from chs_notification.templates import TEMPLATES, Template

log = logging.getLogger(__name__)


# --- the contact directory ---------------------------------------------------------------------


async def _contact_arrived(conn: asyncpg.Connection, person_id: str) -> None:
    await parking.release(conn, "contact", person_id)  # the notices parked awaiting it
    if await repository.wake_messages_waiting_for(conn, person_id):
        await repository.wake_dispatcher(conn)


async def handle_record_contact(
    uow: UnitOfWork, command: RecordContact, *, still_sent: Collection[str] | None = None
) -> None:
    """Keep the person's contact. A mobile that replaces another tells the previous number of
    the change; a requested change (``pending``) sends its one-time code to the new number,
    and nothing else, until it expires. Both are messages of the directory's own templates,
    caused by the contact event. A verified death (``deceased_on``) ends the messages still
    queued to the person's number that the family need not get (``withhold_after_death``)."""
    async with uow:
        conn = uow.conn
        previous = await repository.get_contact(conn, command.person_id)
        await repository.upsert_contact(
            conn,
            command.person_id,
            name=command.name,
            mobile=command.mobile,
            birth_date=command.birth_date,
            guardian_person_id=command.guardian_person_id,
            at=command.at,
            deceased_on=command.deceased_on,
        )
        old = previous["mobile"] if previous is not None else None
        if old and command.mobile and old != command.mobile:
            await _queue_directory_message(
                uow,
                command.person_id,
                CONTACT_CHANGED,
                {"mobile_masked": mask_mobile(command.mobile)},
                to_mobile=old,
            )
        pending = command.pending
        if pending is not None and pending.expires_at > datetime.now(UTC):
            await _queue_directory_message(
                uow,
                command.person_id,
                CONTACT_CONFIRMATION,
                {"code": pending.code},
                to_mobile=pending.mobile,
                priority="high",
            )
        if command.deceased_on is not None:
            for row in await repository.queued_messages_to(conn, command.person_id):
                await withhold_after_death(uow, row, still_sent)
        await _contact_arrived(conn, command.person_id)


async def _queue_directory_message(
    uow: UnitOfWork,
    person_id: str,
    template_id: str,
    params: Mapping[str, str],
    *,
    to_mobile: str,
    priority: str = "normal",
) -> None:
    assert uow.causation_id is not None, "a contact comes with an event"
    template = check_notice(f"{template_id} of {uow.causation_id}", template_id, params)
    notice = RequestNotice(
        notice_id(uow.causation_id, template_id, f"{person_id}:{to_mobile}"),
        person_id,
        template_id,
        template.category.value,
        priority,
        params,
    )
    await _queue_message(uow, notice, to_mobile=to_mobile, wake=True)


async def _queue_message(
    uow: UnitOfWork, notice: RequestNotice, *, to_mobile: str | None = None, wake: bool = False
) -> bool:
    """Queue the notice's message, caused by the unit of work's event (the request, or the
    contact); False when its notice id is already known. ``wake``: and wake the dispatcher if
    it was queued."""
    assert uow.causation_id is not None
    return await repository.insert_message(
        uow.conn,
        notice,
        message_id=message_id_for(notice.notice_id),
        request_event_id=uow.causation_id,
        correlation_id=uow.correlation_id,
        to_mobile=to_mobile,
        wake=wake,
    )


# --- notices -----------------------------------------------------------------------------------


async def handle_request_notice(
    uow: UnitOfWork, command: RequestNotice, *, still_sent: Collection[str] | None = None
) -> bool:
    """Queue the notice's message and wake the dispatcher; False when the notice id is already
    known. A notice that can never be rendered is refused (``domain.UnsendableNotice``); one
    whose recipient's contact the directory does not have yet waits for it (``Awaiting``: the
    consumer parks it until the contact is recorded); one to the number of a person who died
    ends at once (``withhold_after_death``). A push or broadcast then follows its category's
    rules (``apply_category_rules``). The request (the unit of work's cause) is the cause of
    the message's events.

    One statement (two when the message is withheld; a push or broadcast takes two or three
    more, the count and the opt-out, then its deferral or end): the message is queued, with
    the dispatcher's wake-up, as the recipient's contacts are read; a notice that must wait
    raises ``Awaiting``, which rolls it back with the unit of work (every caller's: the
    consumer's transaction)."""
    template = check_notice(command.notice_id, command.template_id, command.params)
    assert uow.causation_id is not None, "a notice is requested by an event"
    async with _within(uow):
        inserted, contacts = await repository.queue_reading_contacts(
            uow.conn,
            command,
            [command.person_id, *referenced_ids(command.params, template.params)],
            message_id=message_id_for(command.notice_id),
            request_event_id=uow.causation_id,
            correlation_id=uow.correlation_id,
        )
        awaited = awaited_in(contacts, command.person_id, command.params, template.params)
        if awaited is not None:
            raise Awaiting("contact", awaited, "no contact in the directory yet")
        if not inserted:
            log.info(
                "notice already queued; not sent again",
                extra={"notice_id": command.notice_id, "event_id": uow.causation_id},
            )
            return False
        allowed = still_sent_after_death() if still_sent is None else still_sent
        queued = {"person_id": command.person_id, "template_id": command.template_id}
        reason = withheld_in(contacts, {**queued, "to_mobile": None}, allowed)
        if reason is not None:
            row = await repository.lock_message(uow.conn, message_id_for(command.notice_id))
            assert row is not None, "queued in this transaction"
            await _withhold(uow, row, reason)
        elif not RULES.is_service(template.category):
            await apply_category_rules(uow, command, template)
    return True


def _templates_of(category: str) -> list[str]:
    return [t.template_id for t in TEMPLATES.values() if t.category == category]


async def apply_category_rules(
    uow: UnitOfWork,
    command: RequestNotice,
    template: Template,
    *,
    rules: Rules = RULES,
    now: datetime | None = None,
) -> Outcome:
    """The rules of the category of the notice's template (``rules.decide``) on its message,
    just queued, as of when it was requested (``now`` when not known): to a person who opted
    out it ends ``opted_out``, over the person's cap ``capped`` (neither is sent; its status
    event says why); in the quiet hours it stays queued until their end (``not_before``). The
    cap counts the person's messages of the category sent or queued, by the day each goes
    out; a person's notices come in order (their key), so two are never counted at once."""
    conn = uow.conn
    category = template.category.value
    at = command.requested_at or now or datetime.now(UTC)
    message_id = message_id_for(command.notice_id)
    day = rules.day_of(rules.goes_out_at(category, at))
    counted = await repository.counted_messages(
        conn,
        command.person_id,
        _templates_of(category),
        day,
        zone=rules.zone,
        leaving_out=message_id,
    )
    decision = decide(
        rules,
        category,
        at,
        opted_out=await repository.opted_out(conn, command.person_id),
        counts=Counts(*counted),
    )
    if decision.outcome is Outcome.DEFER:
        await repository.update_message(
            conn,
            message_id,
            {"not_before": decision.not_before, "next_attempt_at": decision.not_before},
        )
    elif decision.outcome is not Outcome.SEND:
        row = await repository.lock_message(conn, message_id)
        assert row is not None and decision.reason is not None, "queued in this transaction"
        await save_change(conn, ruled_out(uow.source, row, decision.outcome, decision.reason))
        log.info(
            "message not sent: the rules of its category",
            extra={"message_id": str(message_id), "outcome": decision.outcome.value},
        )
    return decision.outcome


RULED_OUT = {
    Outcome.OPTED_OUT: DeliveryEvent.PERSON_OPTED_OUT,
    Outcome.CAPPED: DeliveryEvent.OVER_CAP,
}


def ruled_out(
    source: str, row: Mapping[str, Any], outcome: Outcome, reason: str, at: datetime | None = None
) -> "Change":
    """The message (``row``, locked) ended ``opted_out`` or ``capped`` with the reason."""
    return plan_move(
        source,
        row,
        RULED_OUT[outcome],
        at or datetime.now(UTC),
        reason=reason,
        fields={"last_error": reason},
    )


# --- the opt-out register ----------------------------------------------------------------------


async def handle_set_push_preference(
    uow: UnitOfWork, command: SetPushPreference
) -> tuple[asyncpg.Record | None, bool]:
    """Record the person's push preference (``via`` the app, or a TD reply to an SMS) and
    publish it (PushPreferenceChanged on the compacted ``chs.notices.preferences``) when it
    changed; the same preference again, or opting in with no preference recorded (no row is
    opted in), changes and publishes nothing. The preference as it now is (None: never
    recorded), and whether it changed. Service messages are never affected; the push and
    broadcast messages already queued, deferred ones included, are checked again when sent."""
    async with uow:
        changed = await uow.record_with(
            [
                (
                    repository.SET_PUSH_PREFERENCE,
                    (command.person_id, command.opted_out, command.via, command.at),
                )
            ],
            PushPreferenceChanged(
                person_id=command.person_id,
                opted_out=command.opted_out,
                via=command.via,
                at=command.at,
            ),
        )
        row = await repository.get_push_preference(uow.conn, command.person_id)
    return row, changed


@asynccontextmanager
async def _within(uow: UnitOfWork) -> AsyncIterator[None]:
    """The unit of work, or the transaction it is already in (the consumer's: a savepoint
    there would cost two round trips and change nothing, since a failure rolls the consumer's
    transaction back); a unique violation is a ``Conflict`` all the same."""
    if not uow.conn.is_in_transaction():
        async with uow:
            yield
        return
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict("changed by a concurrent request; retry") from None


async def withhold_after_death(
    uow: UnitOfWork, row: Mapping[str, Any] | None, still_sent: Collection[str] | None = None
) -> bool:
    """End a queued message (``row``, locked) as undeliverable, with the reason, when the holder
    of the number it goes to died and its template is not one the family must still get
    (``still_sent``: ``CHS_STILL_SENT_AFTER_DEATH`` unless given); False when it may go."""
    if row is None:
        return False
    allowed = still_sent_after_death() if still_sent is None else still_sent
    reason = await recipients.withheld(uow.conn, row, allowed)
    if reason is None:
        return False
    await _withhold(uow, row, reason)
    return True


async def _withhold(uow: UnitOfWork, row: Mapping[str, Any], reason: str) -> None:
    await save_change(
        uow.conn,
        plan_move(
            uow.source,
            row,
            DeliveryEvent.UNREACHABLE,
            datetime.now(UTC),
            reason=reason,
            fields={"last_error": reason},
        ),
    )
    log.info(
        "message withheld: its recipient died",
        extra={"message_id": str(row["message_id"]), "template_id": row["template_id"]},
    )


# --- a message's status ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A locked message as it is to be stored: ``fields``, the columns that change; ``row``,
    all its columns after the change; ``announced``, the event of its status move (None when
    the status stays)."""

    fields: Mapping[str, Any]
    row: Mapping[str, Any]
    announced: Envelope | None = None

    @property
    def message_id(self) -> Any:
        return self.row["message_id"]


def changed(row: Mapping[str, Any], fields: Mapping[str, Any]) -> Change:
    """The message (``row``, locked) with ``fields`` set, its status unchanged."""
    return Change(fields, {**row, **fields})


def plan_move(
    source: str,
    row: Mapping[str, Any],
    event: DeliveryEvent,
    at: datetime,
    *,
    sender: str | None = None,
    reason: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Change:
    """The message (``row``, locked) moved by ``event`` (``domain.InvalidTransition`` when its
    status does not allow it) with ``fields`` (the columns its send or receipt sets), and the
    event announcing its new status, caused by the notice's request with its correlation."""
    message = Message.of(row)
    moved, announced = message.move(event, at, sender=sender, reason=reason)
    changes = {**(fields or {}), "status": moved.status.value}
    if moved.final:
        changes["final_at"] = moved.final_at
    envelope = Envelope(
        announced,
        source=source,
        correlation_id=message.correlation_id or message.request_event_id,
        causation_id=message.request_event_id,
    )
    return Change(changes, {**row, **changes}, envelope)


async def save_change(conn: asyncpg.Connection, change: Change) -> None:
    """Store one change and record its event, in the caller's transaction."""
    await repository.update_message(conn, change.message_id, change.fields)
    if change.announced is not None:
        await outbox.record(conn, change.announced)


async def save_changes(conn: asyncpg.Connection, changes: Sequence[Change]) -> None:
    """Store many changes (none of them of ``early_receipt``) and record their events in
    their order: two statements, in the caller's transaction."""
    await repository.update_messages(conn, [change.row for change in changes])
    await outbox.record_all(conn, [c.announced for c in changes if c.announced is not None])


async def handle_record_receipt(uow: UnitOfWork, command: RecordReceipt) -> None:
    """Apply a delivery receipt: a sent message is delivered or failed; a duplicate or late
    one is ignored; one that overtook its send is kept on the queued message."""
    receipt = command.receipt
    async with uow:
        row = await repository.lock_message(uow.conn, receipt.message_id)
        if row is None:
            log.warning("receipt for an unknown message", extra={"message_id": receipt.message_id})
            return
        await _apply_receipt(uow.conn, uow.source, row, receipt)


async def apply_early_receipt(conn: asyncpg.Connection, source: str, row: asyncpg.Record) -> None:
    """Apply the receipt kept on a message (``row`` as claimed) whose send was just recorded."""
    sent = await repository.lock_message(conn, row["message_id"])
    assert sent is not None
    receipt = receipt_from_json(str(row["message_id"]), row["early_receipt"])
    await _apply_receipt(conn, source, sent, receipt)


async def _apply_receipt(
    conn: asyncpg.Connection, source: str, row: asyncpg.Record, receipt: DeliveryReceipt
) -> None:
    if row["status"] == MessageStatus.QUEUED:
        # The receipt overtook the commit of its send (a dispatcher died after the gateway
        # took the message): keep it until the resend marks the message sent.
        await repository.update_message(
            conn, row["message_id"], {"early_receipt": receipt_to_json(receipt)}
        )
        return
    change = receipt_change(source, row, receipt)
    if change is not None:
        await save_change(conn, change)


def receipt_change(source: str, row: Mapping[str, Any], receipt: DeliveryReceipt) -> Change | None:
    """What a receipt does to its message (``row``, locked, not queued): delivered or failed;
    None for a duplicate or late one (ignored)."""
    event = delivery_event(receipt)
    at = receipt.received_at
    fields: dict[str, Any] = {"early_receipt": None}
    reason = None
    if receipt.delivered:
        fields["delivered_at"] = at
    else:
        reason = f"not delivered: {receipt.error_code or 'no code'}"
        fields["last_error"] = reason
    try:
        return plan_move(source, row, event, at, sender=row["sender"], reason=reason, fields=fields)
    except InvalidTransition:
        log.info(
            "duplicate or late receipt ignored",
            extra={
                "message_id": receipt.message_id,
                "status": row["status"],
                "receipt": event.value,
            },
        )
        return None


async def apply_receipts(
    conn: asyncpg.Connection, source: str, receipts: Sequence[DeliveryReceipt]
) -> None:
    """``handle_record_receipt`` for many, in the caller's transaction: the messages locked in
    one statement, the moves of the sent ones stored with their events in two."""
    rows = await repository.lock_messages(conn, [receipt.message_id for receipt in receipts])
    changes: list[Change] = []
    for receipt in receipts:
        row = rows.get(uuid.UUID(receipt.message_id))
        if row is None:
            log.warning("receipt for an unknown message", extra={"message_id": receipt.message_id})
        elif row["status"] == MessageStatus.QUEUED or row["early_receipt"] is not None:
            await _apply_receipt(conn, source, row, receipt)  # rare: one at a time
        elif (change := receipt_change(source, row, receipt)) is not None:
            changes.append(change)
    await save_changes(conn, changes)
