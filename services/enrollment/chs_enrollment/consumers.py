"""The enrollment service's consumers (``chs_events.consumer.ConsumerRunner``).

- ``enrollment-transfers`` on ``chs.transfer.events``: a completed relationship transfer
  (TransferCompleted) moves the enrollment's pooling region and records PoolingRegionChanged in
  the outbox, in one transaction with the inbox claim and under the person's lock. A transfer
  moves an enrollment once: the inbox skips a redelivered event, and ``pooling_region_changes``
  (keyed by transfer id) skips the same completion arriving again under another event id.
  A completion that does not fit the enrollment (``TransferNotApplicable``), or of an unknown
  person, is a domain error: dead-lettered at once, for case work.
- ``enrollment-deaths`` on ``chs.feeds.deaths``: a verified death (生存认证, DeathRecorded) ends
  every enrollment of the person covering a day after the date of death, as of that date
  (EnrollmentTerminated reason death: accounts withdraws the personal account to the heirs),
  records the person deceased (PersonDeceased) and puts the date on the person's contact
  (PersonContact ``deceased_on``: notification then sends the number only what the family must
  know). DeathCorrected moves the date and the ends it gave. A death of a person not registered
  here is kept (a later registration is recorded deceased, its enrollments refused). A first
  record of another date than the one recorded is dead-lettered (``DeathAlreadyRecorded``).
"""

import logging

from chs_enrollment import handlers
from chs_enrollment.commands import MovePoolingRegion, RecordDeath
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.feeds import DeathCorrected, DeathRecorded
from chs_events.events.transfer import TransferCompleted
from chs_events.topics import DEATH_FEED, TRANSFER_EVENTS
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

TRANSFERS_CONSUMER = "enrollment-transfers"
DEATHS_CONSUMER = "enrollment-deaths"


async def on_transfer_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, TransferCompleted)
    command = MovePoolingRegion(
        event.transfer_id,
        event.person_id,
        event.enrollment_id,
        event.from_region,
        event.to_region,
        event.completed_on,
        envelope.id,
    )
    if not await handlers.handle_move_pooling_region(uow, command):
        log.info(
            "transfer already applied; pooling region not moved again",
            extra={"transfer_id": event.transfer_id, "event_id": envelope.id},
        )


async def on_death(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, DeathRecorded | DeathCorrected)
    command = RecordDeath.of(
        event, event_id=envelope.id, correction=isinstance(event, DeathCorrected)
    )
    applied = await handlers.handle_record_death(uow, command)
    if applied != "recorded":
        log.info(
            "death of a person not registered here: kept, nothing to end"
            if applied == "kept"
            else "death already recorded with this date; nothing changed",
            extra={"record_id": event.record_id, "event_id": envelope.id},
        )


TRANSFERS_TOPICS = [TRANSFER_EVENTS]
TRANSFERS_HANDLERS = {TransferCompleted.ce_type: on_transfer_completed}
DEATHS_TOPICS = [DEATH_FEED]
DEATHS_HANDLERS = {DeathRecorded.ce_type: on_death, DeathCorrected.ce_type: on_death}
SUBSCRIPTIONS = [
    Subscription(TRANSFERS_CONSUMER, TRANSFERS_TOPICS, TRANSFERS_HANDLERS),
    Subscription(DEATHS_CONSUMER, DEATHS_TOPICS, DEATHS_HANDLERS),
]
