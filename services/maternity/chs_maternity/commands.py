"""Commands of the maternity service."""

from datetime import date, datetime

from chs_events.commands import Command
from chs_events.events.reimbursement import SettlementReversalReason
from chs_maternity.domain import Confinement, Kind


class SubmitApplication(Command):
    """An application for the allowance where no settlement grants it."""

    person_id: str
    kind: Kind
    event_date: date
    reference: str  # the birth certificate, the hospital's record, a foreign document ...
    babies: int = 1
    difficult_birth: bool = False
    gestational_weeks: int | None = None


class ApproveApplication(Command):
    application_id: str
    reviewer: str


class PayAllowance(Command):
    allowance_id: str
    payment_reference: str
    paid_on: date | None = None  # today


class GrantForSettlement(Command):
    """免申即享: a delivery settlement of an employee grants the allowance without application."""

    person_id: str
    settlement_id: str
    confinement: Confinement
    event_date: date  # the discharge day


class UndoReversedSettlement(Command):
    """冲正: the settlement was reversed; the allowance it granted is cancelled (not yet paid) or
    recovered (paid), and the settlement, when read later, grants nothing."""

    person_id: str
    settlement_id: str
    reason_code: SettlementReversalReason
    reversed_at: datetime
