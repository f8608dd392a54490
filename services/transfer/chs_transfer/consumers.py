"""The transfer service's read model of ``chs.enrollment.events`` (consumer
``transfer-enrollments``): enrollments with their current pooling region, and the contributions
paid into them (months and the parts the account allocation rule credits).

Each handler runs in one transaction with the consumer's inbox claim; every write is also
idempotent on its own (keyed by enrollment id or payment id).
"""
import asyncpg

from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.topics import ENROLLMENT_EVENTS

from chs_transfer import repository
from chs_transfer.model import Contribution, InsuredEnrollment

ENROLLMENTS_CONSUMER = "transfer-enrollments"


async def on_enrollment_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    await repository.upsert_enrollment(conn, InsuredEnrollment(
        event.enrollment_id, event.person_id, event.insutype, event.pooling_region,
        event.start_date))


async def on_enrollment_terminated(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, EnrollmentTerminated)
    await repository.end_enrollment(conn, event.enrollment_id, event.end_date)


async def on_pooling_region_changed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, PoolingRegionChanged)
    await repository.set_pooling_region(conn, event.enrollment_id, event.to_region)


async def on_contribution_paid(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, ContributionPaid)
    await repository.insert_contribution(conn, event.person_id, Contribution(
        event.payment_id, event.enrollment_id, event.period, event.employer_part_fen,
        event.personal_part_fen))


ENROLLMENTS_TOPICS = [ENROLLMENT_EVENTS]
ENROLLMENTS_HANDLERS = {
    EnrollmentRegistered.ce_type: on_enrollment_registered,
    EnrollmentTerminated.ce_type: on_enrollment_terminated,
    PoolingRegionChanged.ce_type: on_pooling_region_changed,
    ContributionPaid.ce_type: on_contribution_paid,
}
