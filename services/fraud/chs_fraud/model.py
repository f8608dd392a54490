"""A signal as a case: raised by the processor, resolved once by an auditor. No I/O."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from chs_events.events.fraud import Benefit, FraudSignalRaised, FraudSignalResolved, SignalKind
from chs_fraud import domain
from chs_fraud.commands import OpenCase, ResolveSignal
from chs_fraud.domain import SignalStatus


@dataclass(frozen=True)
class Signal:
    signal_id: str
    person_id: str
    kind: SignalKind
    region: str
    amount_fen: int
    benefits: tuple[Benefit, ...]
    record_reference: str
    record_date: date
    raised_event_id: str
    status: SignalStatus = "open"
    recovered_fen: int | None = None
    reason: str | None = None
    resolved_by: str | None = None
    resolved_on: date | None = None
    resolved_at: datetime | None = None

    @classmethod
    def open(cls, command: OpenCase) -> "Signal":
        raised: FraudSignalRaised = command.signal
        return cls(
            raised.signal_id,
            raised.person_id,
            raised.kind,
            raised.region,
            raised.amount_fen,
            raised.benefits,
            raised.record_reference,
            raised.record_date,
            command.event_id,
        )

    def resolve(self, command: ResolveSignal, at: datetime) -> tuple["Signal", FraudSignalResolved]:
        if self.status != "open":
            raise domain.AlreadyResolved(
                f"signal {self.signal_id} is already {self.status}", resolved_as=self.status
            )
        recovered, reason = domain.check_resolution(
            self.amount_fen, command.outcome, command.recovered_fen, command.reason
        )
        resolved = replace(
            self,
            status=command.outcome,
            recovered_fen=recovered,
            reason=reason,
            resolved_by=command.resolved_by,
            resolved_on=at.date(),
            resolved_at=at,
        )
        return resolved, FraudSignalResolved.of(resolved, outcome=command.outcome)
