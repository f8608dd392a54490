"""Commands of the reimbursement service (the correlation id of the events they cause travels
in the unit of work)."""

from datetime import date

from chs_events.commands import Command
from chs_events.events.reimbursement import SettlementReversalReason
from chs_reimbursement.model import Bill


class SettleBill(Command):
    """The institution's HIS settles a visit at discharge (一站式结算)."""

    person_id: str
    bill: Bill
    maternity: bool = False


class ReverseSettlement(Command):
    settlement_id: str
    reason_code: SettlementReversalReason


class SubmitClaim(Command):
    """The person claims expenses paid out of pocket (手工报销)."""

    person_id: str
    bill: Bill


class PayClaim(Command):
    claim_id: str
    payment_reference: str
    paid_on: date | None = None  # today


class SetAssistedGroups(Command):
    """The civil-affairs roll (民政 / 乡村振兴) says which assisted groups a person is in."""

    person_id: str
    groups: frozenset[str]
