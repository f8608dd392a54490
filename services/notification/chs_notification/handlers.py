"""Command handlers of the notification service: each runs in one unit of work.

The contact directory's command releases the notices parked awaiting the contact and wakes the
messages waiting for it (and tells a mobile change's numbers what they need: the new one its
code, the previous one the change); a requested notice is queued once per notice id (and wakes
the dispatcher) once the directory has its recipient, parked until then; a message's status moves
(``model.Message.move``) are saved with the ``chs.notices.*`` event announcing them, caused by
the notice's request and carrying its correlation id, whoever moves it (the dispatcher, a
receipt).
"""

import logging
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from chs_events import parking
from chs_events.events.notices import notice_id
from chs_events.masking import mask_mobile
from chs_events.processing import Awaiting
from chs_events.unit_of_work import UnitOfWork
from chs_notification import recipients, repository
from chs_notification.commands import RecordContact, RecordReceipt, RequestNotice
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
from chs_notification.recipients import awaited_contact
from chs_notification.settings import still_sent_after_death

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
    if await _queue_message(uow, notice, to_mobile=to_mobile):
        await repository.wake_dispatcher(uow.conn)


async def _queue_message(
    uow: UnitOfWork, notice: RequestNotice, *, to_mobile: str | None = None
) -> bool:
    """Queue the notice's message, caused by the unit of work's event (the request, or the
    contact); False when its notice id is already known."""
    assert uow.causation_id is not None
    return await repository.insert_message(
        uow.conn,
        notice,
        message_id=message_id_for(notice.notice_id),
        request_event_id=uow.causation_id,
        correlation_id=uow.correlation_id,
        to_mobile=to_mobile,
    )


# --- notices -----------------------------------------------------------------------------------


async def handle_request_notice(
    uow: UnitOfWork, command: RequestNotice, *, still_sent: Collection[str] | None = None
) -> bool:
    """Queue the notice's message and wake the dispatcher; False when the notice id is already
    known. A notice that can never be rendered is refused (``domain.UnsendableNotice``); one
    whose recipient's contact the directory does not have yet waits for it (``Awaiting``: the
    consumer parks it until the contact is recorded); one to the number of a person who died
    ends at once (``withhold_after_death``). The request (the unit of work's cause) is the cause
    of the message's events."""
    template = check_notice(command.notice_id, command.template_id, command.params)
    assert uow.causation_id is not None, "a notice is requested by an event"
    async with uow:
        awaited = await awaited_contact(
            uow.conn, command.person_id, command.params, template.params
        )
        if awaited is not None:
            raise Awaiting("contact", awaited, "no contact in the directory yet")
        inserted = await _queue_message(uow, command)
        message = message_id_for(command.notice_id)
        if not inserted:
            log.info(
                "notice already queued; not sent again",
                extra={"notice_id": command.notice_id, "event_id": uow.causation_id},
            )
        elif not await withhold_after_death(
            uow, await repository.lock_message(uow.conn, message), still_sent
        ):
            await repository.wake_dispatcher(uow.conn)
    return inserted


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
    await move_message(
        uow.conn,
        uow.source,
        row,
        DeliveryEvent.UNREACHABLE,
        datetime.now(UTC),
        reason=reason,
        fields={"last_error": reason},
    )
    log.info(
        "message withheld: its recipient died",
        extra={"message_id": str(row["message_id"]), "template_id": row["template_id"]},
    )
    return True


# --- a message's status ------------------------------------------------------------------------


async def move_message(
    conn: asyncpg.Connection,
    source: str,
    row: Mapping[str, Any],
    event: DeliveryEvent,
    at: datetime,
    *,
    sender: str | None = None,
    reason: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Message:
    """Move the message (``row``, locked) and save it with ``fields`` (the columns its send or
    receipt sets), recording the event announcing its new status, in the caller's
    transaction."""
    message = Message.of(row)
    moved, announced = message.move(event, at, sender=sender, reason=reason)
    # Part of the caller's unit of work (its transaction), with the message's own correlation.
    uow = UnitOfWork(
        conn,
        source=source,
        correlation_id=message.correlation_id or message.request_event_id,
        causation_id=message.request_event_id,
    )
    await repository.save_message(conn, moved, fields or {})
    await uow.record(announced)
    return moved


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
        await move_message(
            conn, source, row, event, at, sender=row["sender"], reason=reason, fields=fields
        )
    except InvalidTransition:
        log.info(
            "duplicate or late receipt ignored",
            extra={
                "message_id": receipt.message_id,
                "status": row["status"],
                "receipt": event.value,
            },
        )
