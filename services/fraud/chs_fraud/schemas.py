"""Request and response bodies of the fraud API (case work), with OpenAPI examples."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from chs_events.events.fraud import Benefit, SignalKind
from chs_events.fields import examples
from chs_events.schemas import ChinaTime, PublicModel
from chs_fraud.domain import Outcome, SignalStatus


class ResolutionBody(BaseModel):
    """``confirmed`` with the amount recovered (at most the amount at stake), or ``dismissed``
    with the reason."""

    model_config = examples(
        {"outcome": "confirmed", "recovered_fen": 8_800, "reason": "家属持卡购药，已追回"},
        {"outcome": "dismissed", "reason": "死亡日期登记有误，已由卫健更正"},
    )
    outcome: Outcome
    recovered_fen: int | None = Field(
        default=None, strict=True, ge=0, le=10**12, description="Recovered, integer fen"
    )
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = Field(default=None, description="Required to dismiss")


class SignalPublic(PublicModel):
    """A signal with its evidence: the benefits it rests on, the record that makes them
    suspect (a death record, an accident case, the other bill) and its date."""

    signal_id: str
    person_id: str
    kind: SignalKind
    region: str
    amount_fen: int = Field(description="At stake, integer fen")
    benefits: list[Benefit]
    record_reference: str
    record_date: date
    status: SignalStatus
    recovered_fen: int | None
    reason: str | None
    resolved_by: str | None
    resolved_on: date | None
    resolved_at: ChinaTime | None


class SignalPage(BaseModel):
    total: int = Field(description="Signals matching the filters")
    offset: int
    limit: int
    signals: list[SignalPublic]
