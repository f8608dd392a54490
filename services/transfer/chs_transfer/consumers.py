"""The transfer service's consumers:

- ``transfer-enrollments`` on ``chs.enrollment.events``: the shared enrollment read model
  (``chs_events.read_models.enrollments``: enrollments with their current pooling region) and the
  contributions paid into them (the months a transfer confirms);
- ``transfer-ledger`` on ``chs.account.events``: what the ledger moved for each transfer
  (AccountTransferredWithin, AccountTransferredOut — the completion's and any contribution
  forwarded after it — and AccountTransferredIn), summed into the transfer's
  ``account_balance_fen``. The balance is the ledger's: this service never counts one.

Each handler runs in the consumer's unit of work (one transaction with the inbox claim); every
write is also idempotent on its own (keyed by enrollment id or payment id).
"""

from chs_events.attributes import made_of
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountTransferredIn,
    AccountTransferredOut,
    AccountTransferredWithin,
)
from chs_events.events.enrollment import ContributionPaid
from chs_events.read_models import enrollments
from chs_events.topics import ACCOUNT_EVENTS
from chs_events.unit_of_work import UnitOfWork
from chs_transfer import handlers, repository
from chs_transfer.model import Contribution

ENROLLMENTS_CONSUMER = "transfer-enrollments"
LEDGER_CONSUMER = "transfer-ledger"


async def on_contribution_paid(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, ContributionPaid)
    await repository.insert_contribution(uow.conn, event.person_id, made_of(Contribution, event))


async def on_ledger_movement(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(
        event, AccountTransferredWithin | AccountTransferredOut | AccountTransferredIn
    )
    await handlers.record_ledger_movement(
        uow, event.transfer_id, event.transaction_id, event.amount_fen
    )


ENROLLMENTS_TOPICS = enrollments.TOPICS
ENROLLMENTS_HANDLERS = {
    **enrollments.SUBSCRIPTION_HANDLERS,
    ContributionPaid.ce_type: on_contribution_paid,
}
LEDGER_TOPICS = [ACCOUNT_EVENTS]
LEDGER_HANDLERS = {
    event.ce_type: on_ledger_movement
    for event in (AccountTransferredWithin, AccountTransferredOut, AccountTransferredIn)
}
SUBSCRIPTIONS = [
    Subscription(ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS, unhurried=True),
    Subscription(LEDGER_CONSUMER, LEDGER_TOPICS, LEDGER_HANDLERS),
]
