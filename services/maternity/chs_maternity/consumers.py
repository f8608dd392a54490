"""The consumers of the maternity service.

``maternity-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model, and
beside it each employee enrollment's employer and contribution base (``staff_bases``) — the
source of the employer's monthly average wage.

``maternity-settlements`` on ``chs.reimbursement.events``: a maternity settlement
(``maternity``) of employee insurance (310) whose diagnoses tell a delivery (Z37) grants the
allowance without application (免申即享). Exactly once: the inbox claim is in the same
transaction (a redelivered event is skipped), the allowance is unique by settlement id (the same
settlement published again), and a second allowance within the same confinement is refused.

The settlement and enrollment topics are not ordered against each other: a 310 maternity
settlement for an enrollment this service has not seen yet fails and is retried by the runner
(then dead-lettered, never dropped); one whose enrollment has no employer's contribution base
(no wage to compute from) is dead-lettered at once for case work.
"""
import logging

import asyncpg

from chs_events import outbox
from chs_events.processing import PermanentError
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.read_models import enrollments
from chs_events.topics import ENROLLMENT_EVENTS, REIMBURSEMENT_EVENTS

from chs_maternity import domain, handlers, repository

log = logging.getLogger(__name__)

ENROLLMENTS_CONSUMER = "maternity-enrollments"
SETTLEMENTS_CONSUMER = "maternity-settlements"


class EnrollmentNotYetKnown(Exception):
    """Retried: the enrollment event is on its way on the other topic."""


async def on_enrollment_registered(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await enrollments.on_enrollment_registered(conn, envelope)
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    if event.employer_id and event.contribution_base_fen is not None:
        await repository.insert_staff_base(conn, event.enrollment_id, event.person_id,
                                           event.employer_id, event.contribution_base_fen)


async def on_settlement_completed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementCompleted)
    if not event.maternity or event.insutype != handlers.EMPLOYEE:
        return
    confinement = domain.confinement_of(event.discharge_diagnoses)
    if confinement is None:
        if domain.is_miscarriage(event.discharge_diagnoses):
            log.info("miscarriage settlement: the allowance is applied for with the weeks",
                     extra={"event_id": envelope.id})
        return
    day = event.service_end
    await repository.lock_person(conn, event.person_id)
    enrollment = await enrollments.active_enrollment(conn, event.person_id, handlers.EMPLOYEE,
                                                     day)
    if enrollment is None:
        raise EnrollmentNotYetKnown(f"no employee enrollment known on {day.isoformat()}")
    employer_id = await repository.employer_of(conn, enrollment.enrollment_id)
    if employer_id is None:  # an employee enrollment without an employer's base: case work
        raise PermanentError(f"enrollment {enrollment.enrollment_id} has no employer wage")
    existing = await repository.same_confinement(conn, event.person_id, day)
    if existing is not None:
        log.info("allowance already granted for this confinement",
                 extra={"event_id": envelope.id, "allowance_id": existing.allowance_id})
        return
    allowance = handlers.new_allowance(
        person_id=event.person_id, employer_id=employer_id,
        monthly_wage_fen=await handlers.monthly_wage(conn, employer_id, day),
        confinement=confinement, event_date=day, settlement_id=event.settlement_id)
    if await repository.insert_allowance(conn, allowance):
        await outbox.record(conn, envelope.caused(handlers.approved(allowance),
                                                  handlers.SOURCE))
    else:
        log.info("settlement already granted", extra={"event_id": envelope.id})


ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = {**enrollments.SUBSCRIPTION_HANDLERS,
                        EnrollmentRegistered.ce_type: on_enrollment_registered}
SETTLEMENTS_TOPICS = [REIMBURSEMENT_EVENTS]
SETTLEMENTS_HANDLERS = {SettlementCompleted.ce_type: on_settlement_completed}
assert ENROLLMENTS_TOPICS == [ENROLLMENT_EVENTS]
