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
    """The out-region (转出地) confirms the months paid. ``account_balance_fen``: a balance the
    caller stated, which is refused (the ledger's is the one that moves)."""

    transfer_id: str
    account_balance_fen: int | None = None


class CompleteTransfer(Command):
    """The in-region (转入地) takes the insurance over. Into the province: the balance the
    out-province confirmed through the national transfer platform, its reference and the
    receiving region's staff who entered it (``confirmed_by``, the caller's subject)."""

    transfer_id: str
    account_balance_fen: int | None = None
    platform_reference: str | None = None
    confirmed_by: str | None = None


class RejectTransfer(Command):
    transfer_id: str
    rejected_by: Side
    reason_code: TransferRejectionReason
