"""The settlement consumer (免申即享) and the expiry sweep.

``chronic-settlements`` on ``chs.reimbursement.events``: a completed inpatient settlement whose
discharge diagnoses fall in one of the catalog's auto categories certifies that condition
without any application. Exactly once: the consumer's inbox claim is in the same transaction
(a redelivered event is skipped), and the unique index on active (person, condition) means a
second settlement, or a certification by application, never makes a second one.
"""
import asyncio
import logging

import asyncpg

from chs_events import outbox
from chs_events.clock import today
from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import REIMBURSEMENT_EVENTS

from chs_chronic import domain, handlers, repository
from chs_chronic.catalog import load_catalog

log = logging.getLogger(__name__)

SETTLEMENTS_CONSUMER = "chronic-settlements"


async def on_settlement_completed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementCompleted)
    grants = domain.auto_grants(event, load_catalog(), today())
    if not grants:
        return
    await repository.lock_person(conn, event.person_id)
    for condition, diagnoses, valid_from, _ in grants:
        certification = handlers.new_certification(
            condition, person_id=event.person_id, source="auto", diagnoses=diagnoses,
            institution_code=event.institution_code, institution_name=event.institution_name,
            valid_from=valid_from, settlement_id=event.settlement_id)
        if await repository.insert_certification(conn, certification):
            await outbox.record(conn, envelope.caused(handlers.certified(certification),
                                                      handlers.SOURCE))
        else:
            log.info("already certified; nothing to grant",
                     extra={"condition": condition.code, "event_id": envelope.id})


SETTLEMENTS_TOPICS = [REIMBURSEMENT_EVENTS]
SETTLEMENTS_HANDLERS = {SettlementCompleted.ce_type: on_settlement_completed}


async def sweep_expired(pool: asyncpg.Pool, stop: asyncio.Event, *, interval: float,
                        batch: int) -> None:
    """Ends due certifications every ``interval`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            while await handlers.expire_due(pool, today(), batch) == batch:
                pass
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("expiry sweep failed; retrying", exc_info=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
