"""The enrollment read model: ``remote-care-enrollments`` on ``chs.enrollment.events``.

Keeps person → enrollments (insurance type, current pooling region, start and end) from
EnrollmentRegistered, EnrollmentTerminated and PoolingRegionChanged (a completed transfer).
Each handler runs in one transaction with the consumer's inbox claim and is an upsert or an
update by enrollment id, so a replay changes nothing. One person's events arrive in order on
one partition; an end or move of an enrollment never seen is logged and skipped.
"""
import logging

import asyncpg

from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.topics import ENROLLMENT_EVENTS

from chs_remote_care import repository
from chs_remote_care.domain import Enrollment

log = logging.getLogger(__name__)

ENROLLMENTS_CONSUMER = "remote-care-enrollments"


async def on_enrollment_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    await repository.upsert_enrollment(conn, Enrollment(
        event.enrollment_id, event.person_id, event.insutype, event.pooling_region,
        event.start_date))


async def on_enrollment_terminated(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentTerminated)
    if not await repository.end_enrollment(conn, event.enrollment_id, event.end_date):
        log.warning("termination of an unknown enrollment skipped",
                    extra={"event_id": envelope.id, "enrollment_id": event.enrollment_id})


async def on_pooling_region_changed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PoolingRegionChanged)
    if not await repository.move_enrollment(conn, event.enrollment_id, event.to_region):
        log.warning("move of an unknown enrollment skipped",
                    extra={"event_id": envelope.id, "enrollment_id": event.enrollment_id})


ENROLLMENTS_TOPICS = [ENROLLMENT_EVENTS]
ENROLLMENTS_HANDLERS = {
    EnrollmentRegistered.ce_type: on_enrollment_registered,
    EnrollmentTerminated.ce_type: on_enrollment_terminated,
    PoolingRegionChanged.ce_type: on_pooling_region_changed,
}
