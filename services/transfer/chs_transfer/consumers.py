"""The transfer service's consumer of ``chs.enrollment.events`` (``transfer-enrollments``): the
shared enrollment read model (``chs_events.read_models.enrollments``: enrollments with their
current pooling region) and the contributions paid into them (months and the parts the account
allocation rule credits).

Each handler runs in the consumer's unit of work (one transaction with the inbox claim); every
write is also idempotent on its own (keyed by enrollment id or payment id).
"""

from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContributionPaid
from chs_events.read_models import enrollments
from chs_events.unit_of_work import UnitOfWork
from chs_transfer import repository
from chs_transfer.model import Contribution

ENROLLMENTS_CONSUMER = "transfer-enrollments"


async def on_contribution_paid(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, ContributionPaid)
    await repository.insert_contribution(
        uow.conn,
        event.person_id,
        Contribution(
            event.payment_id,
            event.enrollment_id,
            event.period,
            event.employer_part_fen,
            event.personal_part_fen,
        ),
    )


ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = {
    **enrollments.SUBSCRIPTION_HANDLERS,
    ContributionPaid.ce_type: on_contribution_paid,
}
SUBSCRIPTIONS = [Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS)]
