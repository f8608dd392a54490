"""The case-work consumer: ``fraud-cases`` on ``chs.fraud.signals`` — each raised signal
becomes an open case once (the inbox claim and the signal's primary key: a signal raised again,
with the same id, is taken once)."""

from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.fraud import FraudSignalRaised
from chs_events.topics import FRAUD_SIGNALS
from chs_events.unit_of_work import UnitOfWork
from chs_fraud import handlers
from chs_fraud.commands import OpenCase

CASES_CONSUMER = "fraud-cases"


async def on_signal_raised(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    assert isinstance(event, FraudSignalRaised)
    await handlers.handle_open_case(uow, OpenCase(event, envelope.id))


CASES_TOPICS = [FRAUD_SIGNALS]
CASES_HANDLERS = {FraudSignalRaised.ce_type: on_signal_raised}
SUBSCRIPTIONS = [Subscription(CASES_CONSUMER, CASES_TOPICS, CASES_HANDLERS)]
