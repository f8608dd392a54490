"""The notification service's two consumers (``chs_events.consumer.ConsumerRunner``): each
translates an event into a command, run in the consumer's unit of work.

- ``notification-directory`` on ``chs.enrollment.contacts`` (read by notification alone) keeps
  the contact directory from PersonContact, the whole contact as it now is. A newborn is
  stored with its guardian's person id and no mobile: its messages go to the guardian's mobile
  until it gets one of its own. A mobile change tells the previous number; a requested change
  sends its one-time code to the new number (``handlers.handle_record_contact``).
- ``notification-requests`` on ``chs.notices.requests`` queues one message per notice id and
  wakes the dispatcher. The contact may not be there yet (another topic, another partition):
  the notice is then parked awaiting it (``chs_events.parking``), released when the directory
  records it, and dead-lettered with the reason only after ``CHS_PARKING_BOUND_SECONDS`` (3
  days). A notice may leave out the greeting
  params (``domain.DIRECTORY_PARAMS``): result events do not carry names, so the dispatcher
  fills them with the name of the person whose phone receives the message. A notice that can
  never be rendered is dead-lettered. A push or broadcast follows its category's rules
  (``rules``) as of the request's time: not sent to a person who opted out (``opted_out``) or
  over the person's cap (``capped``), deferred out of the quiet hours.
"""

from chs_events import parking
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.contacts import PersonContact
from chs_events.events.notices import NoticeRequested
from chs_events.topics import ENROLLMENT_CONTACTS, NOTICE_REQUESTS
from chs_events.unit_of_work import UnitOfWork
from chs_notification import handlers
from chs_notification.commands import PendingMobile, RecordContact, RequestNotice

DIRECTORY_CONSUMER = "notification-directory"
REQUESTS_CONSUMER = "notification-requests"


@parking.releases  # the notices parked awaiting the contact
async def on_person_contact(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PersonContact)
    pending = event.pending
    requested = (
        None if pending is None else PendingMobile(pending.mobile, pending.code, pending.expires_at)
    )
    await handlers.handle_record_contact(
        uow, RecordContact.of(event, at=envelope.time, pending=requested)
    )


async def on_notice_requested(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, NoticeRequested)
    await handlers.handle_request_notice(uow, RequestNotice.of(event, requested_at=envelope.time))


DIRECTORY_TOPICS = [ENROLLMENT_CONTACTS]
DIRECTORY_HANDLERS = {PersonContact.ce_type: on_person_contact}
REQUESTS_TOPICS = [NOTICE_REQUESTS]
REQUESTS_HANDLERS = {NoticeRequested.ce_type: on_notice_requested}
SUBSCRIPTIONS = [
    Subscription(DIRECTORY_CONSUMER, DIRECTORY_TOPICS, DIRECTORY_HANDLERS),
    Subscription(REQUESTS_CONSUMER, REQUESTS_TOPICS, REQUESTS_HANDLERS),
]
