"""The notification service's two consumers (``chs_events.consumer.ConsumerRunner``): each
translates an event into a command, run in the consumer's unit of work.

- ``notification-directory`` on ``chs.enrollment.events`` keeps the contact directory.
  A newborn (NewbornEnrolled) is stored with its guardian's person id and no mobile: its
  messages go to the guardian's mobile until it gets one of its own (ContactChanged).
- ``notification-requests`` on ``chs.notices.requests`` queues one message per notice id and
  wakes the dispatcher. The contact may not be there yet (another topic, another partition):
  the dispatcher waits for it up to the grace period. A notice may leave out the greeting
  params (``domain.DIRECTORY_PARAMS``): result events do not carry names, so the dispatcher
  fills them with the name of the person whose phone receives the message. A notice that can
  never be rendered is dead-lettered.
"""

from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContactChanged, NewbornEnrolled, PersonRegistered
from chs_events.events.notices import NoticeRequested
from chs_events.topics import ENROLLMENT_EVENTS, NOTICE_REQUESTS
from chs_events.unit_of_work import UnitOfWork
from chs_notification import handlers
from chs_notification.commands import ChangeMobile, RegisterContact, RegisterNewborn, RequestNotice

DIRECTORY_CONSUMER = "notification-directory"
REQUESTS_CONSUMER = "notification-requests"


async def on_person_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonRegistered)
    await handlers.handle_register_contact(
        uow,
        RegisterContact(
            event.person_id,
            name=event.name,
            mobile=event.mobile,
            birth_date=event.birth_date,
            at=envelope.time,
        ),
    )


async def on_contact_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, ContactChanged)
    await handlers.handle_change_mobile(
        uow, ChangeMobile(event.person_id, event.mobile, at=envelope.time)
    )


async def on_newborn_enrolled(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NewbornEnrolled)
    await handlers.handle_register_newborn(
        uow,
        RegisterNewborn(
            event.person_id,
            name=event.name,
            birth_date=event.birth_date,
            guardian_person_id=event.guardian_person_id,
            at=envelope.time,
        ),
    )


async def on_notice_requested(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NoticeRequested)
    await handlers.handle_request_notice(
        uow,
        RequestNotice(
            notice_id=event.notice_id,
            person_id=event.person_id,
            template_id=event.template_id,
            category=event.category,
            priority=event.priority,
            params=event.params,
        ),
    )


DIRECTORY_TOPICS = [ENROLLMENT_EVENTS]
DIRECTORY_HANDLERS = {
    PersonRegistered.ce_type: on_person_registered,
    ContactChanged.ce_type: on_contact_changed,
    NewbornEnrolled.ce_type: on_newborn_enrolled,
}
REQUESTS_TOPICS = [NOTICE_REQUESTS]
REQUESTS_HANDLERS = {NoticeRequested.ce_type: on_notice_requested}
SUBSCRIPTIONS = [
    Subscription(DIRECTORY_CONSUMER, DIRECTORY_TOPICS, DIRECTORY_HANDLERS),
    Subscription(REQUESTS_CONSUMER, REQUESTS_TOPICS, REQUESTS_HANDLERS),
]
