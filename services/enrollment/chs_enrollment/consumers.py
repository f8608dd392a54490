"""The enrollment service's consumer (``chs_events.consumer.ConsumerRunner``).

- ``enrollment-transfers`` on ``chs.transfer.events``: a completed relationship transfer
  (TransferCompleted) moves the enrollment's pooling region and records PoolingRegionChanged in
  the outbox, in one transaction with the inbox claim and under the person's lock. A transfer
  moves an enrollment once: the inbox skips a redelivered event, and ``pooling_region_changes``
  (keyed by transfer id) skips the same completion arriving again under another event id.
  A completion that does not fit the enrollment is dead-lettered for case work.
"""
import logging

import asyncpg

from chs_events.processing import PermanentError
from chs_events.envelope import Envelope
from chs_events.events.transfer import TransferCompleted
from chs_events.topics import TRANSFER_EVENTS

from chs_enrollment import handlers
from chs_enrollment.domain import PersonNotFound

log = logging.getLogger(__name__)

TRANSFERS_CONSUMER = "enrollment-transfers"


async def on_transfer_completed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    assert isinstance(envelope.event, TransferCompleted)
    try:
        moved = await handlers.handle_transfer_completed(conn, envelope)
    except (PersonNotFound, handlers.TransferNotApplicable) as error:
        raise PermanentError(str(error.detail if isinstance(error, PersonNotFound)
                                 else error)) from None
    if not moved:
        log.info("transfer already applied; pooling region not moved again",
                 extra={"transfer_id": envelope.event.transfer_id, "event_id": envelope.id})


TRANSFERS_TOPICS = [TRANSFER_EVENTS]
TRANSFERS_HANDLERS = {TransferCompleted.ce_type: on_transfer_completed}
