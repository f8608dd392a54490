"""The consumers of the remote-care service: the read models its rules need.

``remote-care-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model
(``chs_events.read_models.enrollments``: enrolled on a day, insured type, pooling region).

``remote-care-settlements`` on ``chs.reimbursement.events``: the stays whose settlement the
server knows of, so that a temporary filing is back-dated only while its stay is not settled
(``domain.check_back_dating``), whatever the caller claims. ``SettlementCompleted`` records
the person, the days (admission to discharge; a visit, its one day), the settling
institution's region and when it was settled; ``SettlementReversed`` (冲正) marks the
settlement reversed, and its stay no longer counts. Both are keyed by settlement id (a
settlement published again, or redelivered, changes nothing) and kept apart, so that they may
be read in either order: a settlement read after its reversal (retried, redriven) settles
nothing.
"""

import logging

from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.read_models import enrollments
from chs_events.topics import REIMBURSEMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork
from chs_remote_care import repository
from chs_remote_care.domain import SettledStay
from chs_remote_care.repository import SettlementReversal

log = logging.getLogger(__name__)

ENROLLMENTS_CONSUMER = "remote-care-enrollments"
ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = enrollments.SUBSCRIPTION_HANDLERS

SETTLEMENTS_CONSUMER = "remote-care-settlements"


async def on_settlement_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementCompleted)
    if not await repository.insert_settled_stay(uow.conn, SettledStay.of(event)):
        log.info("settlement read before", extra={"settlement_id": event.settlement_id})


async def on_settlement_reversed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementReversed)
    await repository.insert_reversal(
        uow.conn, SettlementReversal(event.settlement_id, event.person_id, event.reversed_at)
    )


SETTLEMENTS_TOPICS = [REIMBURSEMENT_EVENTS]
SETTLEMENTS_HANDLERS = {
    SettlementCompleted.ce_type: on_settlement_completed,
    SettlementReversed.ce_type: on_settlement_reversed,
}
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS, unhurried=True),
    Subscription(SETTLEMENTS_CONSUMER, SETTLEMENTS_TOPICS, SETTLEMENTS_HANDLERS),
]
