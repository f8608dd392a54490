"""Commands of the transfer service; ``correlation_id`` (``X-Request-Id``) becomes the
correlation id of the events they cause."""
from dataclasses import dataclass

from chs_transfer.model import Side


@dataclass(frozen=True, kw_only=True)
class Command:
    correlation_id: str | None = None


@dataclass(frozen=True)
class RequestTransfer(Command):
    """The insured person asks to move the employee insurance (310) to ``to_region``."""

    person_id: str
    to_region: str


@dataclass(frozen=True)
class ConfirmOut(Command):
    """The out-region (转出地) confirms what moves. ``account_balance_fen`` is its ledger
    balance when it states one; otherwise it is counted from the contributions."""

    transfer_id: str
    account_balance_fen: int | None = None


@dataclass(frozen=True)
class CompleteTransfer(Command):
    """The in-region (转入地) takes the insurance over."""

    transfer_id: str


@dataclass(frozen=True)
class RejectTransfer(Command):
    transfer_id: str
    rejected_by: Side
    reason: str
