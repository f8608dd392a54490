"""The settlement consumer (免申即享); the expiry job is in ``expiry``.

``chronic-settlements`` on ``chs.reimbursement.events``: a completed inpatient settlement whose
discharge diagnoses fall in one of the catalog's auto categories certifies that condition
without any application. Exactly once: the consumer's inbox claim is in the same transaction
(a redelivered event is skipped), and the unique index on active (person, condition) means a
second settlement, or a certification by application, never makes a second one.

A reversed settlement (冲正, ``SettlementReversed``) revokes the certification without
application it granted, unless another settlement still standing named the condition too; a
certification from an application stays. The reversal is kept: a settlement read after its
reversal (retried, redriven) grants nothing.
"""

import logging

from chs_chronic import domain, handlers
from chs_chronic.catalog import load_catalog
from chs_chronic.commands import AutoGrant, CertifyFromSettlement, RevokeForReversedSettlement
from chs_events.clock import today
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.topics import REIMBURSEMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SETTLEMENTS_CONSUMER = "chronic-settlements"


async def on_settlement_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementCompleted)
    grants = domain.auto_grants(event, load_catalog(), today())
    if not grants:
        return
    await handlers.handle_certify_from_settlement(
        uow,
        CertifyFromSettlement(
            event.person_id,
            event.settlement_id,
            event.institution_code,
            event.institution_name,
            tuple(
                AutoGrant(condition, tuple(diagnoses), valid_from)
                for condition, diagnoses, valid_from, _ in grants
            ),
            region=event.institution_region,
        ),
    )


async def on_settlement_reversed(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, SettlementReversed)
    await handlers.handle_settlement_reversed(uow, RevokeForReversedSettlement.of(event))


SETTLEMENTS_TOPICS = [REIMBURSEMENT_EVENTS]
SETTLEMENTS_HANDLERS = {
    SettlementCompleted.ce_type: on_settlement_completed,
    SettlementReversed.ce_type: on_settlement_reversed,
}
SUBSCRIPTIONS = [Subscription(SETTLEMENTS_CONSUMER, SETTLEMENTS_TOPICS, SETTLEMENTS_HANDLERS)]
