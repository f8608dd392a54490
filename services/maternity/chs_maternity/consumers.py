"""The consumers of the maternity service.

``maternity-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model, and
beside it each employee enrollment's employer and contribution base (``staff_bases``) — the
source of the employer's monthly average wage.

``maternity-settlements`` on ``chs.reimbursement.events``: a maternity settlement
(``maternity``) of employee insurance (310) whose diagnoses tell a delivery (Z37) grants the
allowance without application (免申即享). Exactly once: the inbox claim is in the same
transaction (a redelivered event is skipped), the allowance is unique by settlement id (the same
settlement published again), and a second allowance within the same confinement is refused.

A reversed settlement (冲正, ``SettlementReversed``) takes back the allowance it granted: not
yet paid, it is cancelled; paid, it stays paid and a recovery item (追回) is raised for the
agency. The reversal is kept, so that a settlement read after its reversal (retried, redriven)
grants nothing, and a reversal read twice changes nothing.

The settlement and enrollment topics are not ordered against each other: a 310 maternity
settlement for an enrollment this service has not seen yet is parked awaiting the person's
enrollment (``chs_events.parking``) and granted when ``maternity-enrollments`` applies it, or
dead-lettered with the reason once it has waited ``CHS_PARKING_BOUND_SECONDS`` (7 days); one
whose enrollment has no employer's contribution base (no wage to compute from) is dead-lettered
at once for case work (a domain error).
"""

import logging

from chs_events import parking
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.processing import Awaiting
from chs_events.read_models import enrollments
from chs_events.topics import ENROLLMENT_EVENTS, REIMBURSEMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import EMPLOYEE
from chs_maternity import domain, handlers, repository
from chs_maternity.commands import GrantForSettlement, UndoReversedSettlement

log = logging.getLogger(__name__)

ENROLLMENTS_CONSUMER = "maternity-enrollments"
SETTLEMENTS_CONSUMER = "maternity-settlements"


@parking.releases  # the settlements parked awaiting the enrollment
async def on_enrollment_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    await enrollments.on_enrollment_registered(uow, envelope)
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    if event.employer_id and event.contribution_base_fen is not None:
        await repository.insert_staff_base(
            uow.conn,
            event.enrollment_id,
            event.person_id,
            event.employer_id,
            event.contribution_base_fen,
        )


async def on_settlement_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementCompleted)
    if not event.maternity or event.insutype != EMPLOYEE:
        return
    confinement = domain.confinement_of(event.discharge_diagnoses)
    if confinement is None:
        if domain.is_miscarriage(event.discharge_diagnoses):
            log.info(
                "miscarriage settlement: the allowance is applied for with the weeks",
                extra={"event_id": envelope.id},
            )
        return
    try:
        await handlers.handle_grant_for_settlement(
            uow,
            GrantForSettlement(
                event.person_id, event.settlement_id, confinement, event_date=event.service_end
            ),
        )
    except domain.EnrollmentNotYetKnown as error:
        raise Awaiting("enrollment", event.person_id, str(error)) from error


async def on_settlement_reversed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementReversed)
    await handlers.handle_settlement_reversed(uow, UndoReversedSettlement.of(event))


ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = {
    **enrollments.SUBSCRIPTION_HANDLERS,
    EnrollmentRegistered.ce_type: on_enrollment_registered,
}
SETTLEMENTS_TOPICS = [REIMBURSEMENT_EVENTS]
SETTLEMENTS_HANDLERS = {
    SettlementCompleted.ce_type: on_settlement_completed,
    SettlementReversed.ce_type: on_settlement_reversed,
}
assert ENROLLMENTS_TOPICS == [ENROLLMENT_EVENTS]
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS, unhurried=True),
    Subscription(SETTLEMENTS_CONSUMER, SETTLEMENTS_TOPICS, SETTLEMENTS_HANDLERS),
]
