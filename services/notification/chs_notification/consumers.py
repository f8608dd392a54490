"""Handlers of the notification service's two consumers (``chs_events.consumer.ConsumerRunner``).

- ``notification-directory`` on ``chs.enrollment.events`` keeps the contact directory.
  A newborn (NewbornEnrolled) is stored with its guardian's person id and no mobile: its
  messages go to the guardian's mobile until it gets one of its own (ContactChanged).
- ``notification-requests`` on ``chs.notices.requests`` queues one message per notice id and
  wakes the dispatcher. The contact may not be there yet (another topic, another partition):
  the dispatcher waits for it up to the grace period. A notice may leave out the greeting
  params (``DIRECTORY_PARAMS``): result events do not carry names, so the dispatcher fills
  them with the name of the person whose phone receives the message.

Each handler runs in one transaction with the consumer's inbox claim.
"""
import logging
import uuid

import asyncpg

from chs_events.processing import PermanentError
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContactChanged, NewbornEnrolled, PersonRegistered
from chs_events.events.notices import NoticeRequested
from chs_events.topics import ENROLLMENT_EVENTS, NOTICE_REQUESTS

from chs_notification import repository
from chs_notification.templates import UnknownTemplate, get_template

log = logging.getLogger(__name__)

DIRECTORY_CONSUMER = "notification-directory"
REQUESTS_CONSUMER = "notification-requests"
DISPATCH_CHANNEL = "chs_dispatch"

# Filled from the contact directory when a notice does not carry them: the name of the person
# who reads the message (the recipient, or the guardian who receives a newborn's messages).
DIRECTORY_PARAMS = frozenset({"name", "guardian_name"})

# message ids derive from notice ids, so the gateway's idempotency key of a notice never changes
MESSAGE_ID_NAMESPACE = uuid.UUID("5d0c1c9e-3f0e-4c55-9a57-6a1f0b7d2c41")


def message_id_for(notice_id: str) -> uuid.UUID:
    return uuid.uuid5(MESSAGE_ID_NAMESPACE, notice_id)


async def wake_dispatcher(conn: asyncpg.Connection) -> None:
    """NOTIFY, delivered when the caller's transaction commits."""
    await conn.execute("select pg_notify($1, '')", DISPATCH_CHANNEL)


async def _contact_arrived(conn: asyncpg.Connection, person_id: str) -> None:
    if await repository.wake_messages_waiting_for(conn, person_id):
        await wake_dispatcher(conn)


async def on_person_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonRegistered)
    await repository.upsert_person(conn, event.person_id, name=event.name, mobile=event.mobile,
                                   birth_date=event.birth_date, at=envelope.time)
    await _contact_arrived(conn, event.person_id)


async def on_contact_changed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, ContactChanged)
    await repository.upsert_mobile(conn, event.person_id, event.mobile, envelope.time)
    await _contact_arrived(conn, event.person_id)


async def on_newborn_enrolled(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NewbornEnrolled)
    await repository.upsert_newborn(conn, event.person_id, name=event.name,
                                    birth_date=event.birth_date,
                                    guardian_person_id=event.guardian_person_id,
                                    at=envelope.time)
    await _contact_arrived(conn, event.person_id)


async def on_notice_requested(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NoticeRequested)
    try:
        template = get_template(event.template_id)
    except UnknownTemplate:
        raise PermanentError(f"unknown template {event.template_id!r} "
                             f"(notice {event.notice_id})") from None
    missing = tuple(name for name in template.params
                    if name not in event.params and name not in DIRECTORY_PARAMS)
    if missing:
        raise PermanentError(f"template {template.template_id} is missing params: "
                             f"{', '.join(missing)} (notice {event.notice_id})")
    inserted = await repository.insert_message(
        conn, message_id=message_id_for(event.notice_id), notice_id=event.notice_id,
        person_id=event.person_id, template_id=event.template_id, category=event.category,
        priority=event.priority, params=event.params, request_event_id=envelope.id,
        correlation_id=envelope.correlation_id)
    if inserted:
        await wake_dispatcher(conn)
    else:
        log.info("notice already queued; not sent again",
                 extra={"notice_id": event.notice_id, "event_id": envelope.id})


DIRECTORY_TOPICS = [ENROLLMENT_EVENTS]
DIRECTORY_HANDLERS = {
    PersonRegistered.ce_type: on_person_registered,
    ContactChanged.ce_type: on_contact_changed,
    NewbornEnrolled.ce_type: on_newborn_enrolled,
}
REQUESTS_TOPICS = [NOTICE_REQUESTS]
REQUESTS_HANDLERS = {NoticeRequested.ce_type: on_notice_requested}
