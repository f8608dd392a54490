"""Commands of the fraud service's case work."""

from chs_events.commands import Command
from chs_events.events.fraud import FraudSignalRaised
from chs_fraud.domain import Outcome


class OpenCase(Command):
    """A raised signal becomes an open case (once, however often it is delivered)."""

    signal: FraudSignalRaised
    event_id: str


class ResolveSignal(Command):
    """An auditor closes the case."""

    signal_id: str
    outcome: Outcome
    recovered_fen: int | None
    reason: str | None
    resolved_by: str
