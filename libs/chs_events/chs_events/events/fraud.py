"""Events of the fraud service, on ``chs.fraud.signals``: signals raised by the fraud processor
from the feeds and the benefit events, and resolved by auditors in case work.

A signal is a lead, not a verdict: nothing is refused because of one. Its id is deterministic (of
its kind and the events it rests on), so a re-processed event raises nothing new. Every amount is
integer fen (分).
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chs_events.events.base import Event, register
from chs_events.fields import Region
from chs_events.topics import FRAUD_SIGNALS

SignalKind = Literal["benefit_after_death", "third_party_liability", "near_duplicate_bill"]
BenefitKind = Literal["settlement", "claim_payment", "account_debit", "maternity_allowance"]
Fen = Annotated[int, Field(strict=True, ge=0, le=10**12)]


class Benefit(BaseModel):
    """What the fund (or the account) paid: the evidence a case worker opens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: BenefitKind
    reference: str = Field(max_length=100, description="settlement, claim, posting or allowance id")
    event_id: str = Field(description="The ce_id of the benefit's event")
    service_date: date = Field(description="The day of the service, posting or payment")
    amount_fen: Fen
    institution_code: str | None = None
    region: Region = Field(description="The pooling region that paid")


class FraudEvent(Event):
    topic = FRAUD_SIGNALS
    producer = "fraud"


@register
class FraudSignalRaised(FraudEvent):
    """A lead for an auditor of ``region``: the benefits it rests on, the record that makes
    them suspect (a death record, an accident case, the other bill), and the amount at stake."""

    ce_type = "chs.fraud.signal.raised.v1"
    signal_id: str
    kind: SignalKind
    region: Region
    amount_fen: Fen
    benefits: tuple[Benefit, ...] = Field(min_length=1)
    record_reference: str = Field(
        max_length=100, description="death record id, accident case id, or the other bill's id"
    )
    record_date: date = Field(description="date of death, accident date, or the other bill's day")

    @property
    def subject(self) -> str:
        return self.signal_id


@register
class FraudSignalResolved(FraudEvent):
    """An auditor closed the case: ``confirmed`` with what was recovered, or ``dismissed``."""

    ce_type = "chs.fraud.signal.resolved.v1"
    signal_id: str
    outcome: Literal["confirmed", "dismissed"]
    recovered_fen: Fen
    reason: str = Field(min_length=1, max_length=500)
    resolved_by: str = Field(max_length=100, description="The auditor's subject")
    resolved_on: date

    @property
    def subject(self) -> str:
        return self.signal_id
