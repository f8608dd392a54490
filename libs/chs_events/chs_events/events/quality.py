"""Data-quality signals, on ``chs.quality.signals``: what a reader of the domain topics found
inconsistent in them, for the analysts (``analytics``); never told to the person.

``DataQualitySignalRaised`` of kind ``account_continuity``: a personal-account posting on
``chs.account.events`` whose balance after is not the previous balance after ± its amount (a
``gap``), or a second posting of a ledger transaction already applied under another event id (a
``duplicate``). The account-notice processor raises it and tells the holder nothing of that
posting. Its id is deterministic (of its kind and the posting's event id), so a redelivered
posting raises nothing new. Money is integer fen.
"""

import uuid
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import QUALITY_SIGNALS

# Never change it: a redelivered event must raise the signal id it raised before.
SIGNAL_NAMESPACE = uuid.UUID("0b9d3f57-6a2e-5c41-8e0f-6d1f2a7c9b44")

QualityKind = Literal["account_continuity"]
ContinuityProblem = Literal["gap", "duplicate"]


def quality_signal_id(kind: str, event_id: str) -> str:
    """The same kind of finding on the same event always has the same id."""
    return str(uuid.uuid5(SIGNAL_NAMESPACE, f"{kind}:{event_id}"))


class QualityEvent(Event):
    topic = QUALITY_SIGNALS
    producer = "account-notices"


@register
class DataQualitySignalRaised(QualityEvent):
    """An account's posting that does not follow from the one before it (``person_id``: the
    holder, the key of the account's events)."""

    ce_type = "chs.quality.signal.raised.v1"
    signal_id: str
    kind: QualityKind
    problem: ContinuityProblem = Field(
        description="gap: the balance after is not the previous one ± the amount; duplicate: the "
        "transaction was applied before under another event id"
    )
    account_id: str
    transaction_id: str
    event_id: str = Field(description="The ce_id of the posting found inconsistent")
    event_type: str = Field(description="Its ce_type")
    previous_event_id: str | None = Field(
        description="The ce_id of the posting it was checked against (the previous one, or the "
        "one that applied the transaction first)"
    )
    expected_balance_fen: int = Field(
        description="The balance after it should have stated: the previous balance after ± its "
        "amount (a duplicate: the previous balance after, unchanged)"
    )
    found_balance_fen: int = Field(description="The balance after it states")

    @property
    def subject(self) -> str:
        return self.signal_id
