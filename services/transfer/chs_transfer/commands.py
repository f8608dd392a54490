"""Commands of the transfer service (``chs_events.commands.Command``; the correlation id
travels in the unit of work)."""

from chs_events.commands import Command
from chs_events.events.transfer import TransferRejectionReason
from chs_transfer.model import Side


class RequestTransfer(Command):
    """The insured person asks to move the employee insurance (310) to ``to_region``."""

    person_id: str
    to_region: str


class ConfirmOut(Command):
    """The out-region (转出地) confirms what moves. ``account_balance_fen`` is its ledger
    balance when it states one; otherwise it is counted from the contributions."""

    transfer_id: str
    account_balance_fen: int | None = None


class CompleteTransfer(Command):
    """The in-region (转入地) takes the insurance over."""

    transfer_id: str


class RejectTransfer(Command):
    transfer_id: str
    rejected_by: Side
    reason_code: TransferRejectionReason
