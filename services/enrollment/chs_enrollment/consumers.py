"""The enrollment service's consumer (``chs_events.consumer.ConsumerRunner``).

- ``enrollment-transfers`` on ``chs.transfer.events``: a completed relationship transfer
  (TransferCompleted) moves the enrollment's pooling region and records PoolingRegionChanged in
  the outbox, in one transaction with the inbox claim and under the person's lock. A transfer
  moves an enrollment once: the inbox skips a redelivered event, and ``pooling_region_changes``
  (keyed by transfer id) skips the same completion arriving again under another event id.
  A completion that does not fit the enrollment (``TransferNotApplicable``), or of an unknown
  person, is a domain error: dead-lettered at once, for case work.
"""

import logging

from chs_enrollment import handlers
from chs_enrollment.commands import MovePoolingRegion
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.transfer import TransferCompleted
from chs_events.topics import TRANSFER_EVENTS
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

TRANSFERS_CONSUMER = "enrollment-transfers"


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


TRANSFERS_TOPICS = [TRANSFER_EVENTS]
TRANSFERS_HANDLERS = {TransferCompleted.ce_type: on_transfer_completed}
SUBSCRIPTIONS = [Subscription(TRANSFERS_CONSUMER, TRANSFERS_TOPICS, TRANSFERS_HANDLERS)]
