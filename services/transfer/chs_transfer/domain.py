"""The rules of relationship transfer (关系转移接续), over ``model`` state. No I/O.

State machine of one transfer::

    within one province:  requested ──(at once)──► completed
    across provinces:     requested ──out-region confirms──► out_confirmed ──in-region──► completed
                          requested ──out-region refuses──► rejected
                          out_confirmed ──in-region refuses──► rejected

Only an active employee (310) enrollment moves; never to its own pooling region (the same
prefecture-level city pools once); at most one open transfer per person.
"""
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from chs_events.errors import Conflict, NotFound, Rejected
from chs_events.read_models.enrollments import Enrollment
from chs_events.regions import same_city, same_province

from chs_transfer.model import (
    COMPLETED,
    EMPLOYEE,
    OUT_CONFIRMED,
    REJECTED,
    REQUESTED,
    AllocationRule,
    Contribution,
    Side,
    Transfer,
)

# Which side may act on a transfer in which state.
TRANSITIONS: dict[tuple[str, str], str] = {
    (REQUESTED, "confirm_out"): OUT_CONFIRMED,
    (REQUESTED, "reject_out_region"): REJECTED,
    (OUT_CONFIRMED, "complete"): COMPLETED,
    (OUT_CONFIRMED, "reject_in_region"): REJECTED,
}


class InvalidField(Rejected):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}",
                         errors=[{"field": field_name, "reason": reason}])


class NotActiveEmployee(Rejected):
    """No active employee (310) enrollment is known for the person (yet)."""


class TransferNotFound(NotFound):
    pass


class TransferOpen(Conflict):
    pass


class WrongState(Conflict):
    pass


def active_employee_enrollment(enrollments: Iterable[Enrollment],
                               today: date) -> Enrollment:
    for enrollment in enrollments:
        if enrollment.insutype == EMPLOYEE and enrollment.active_on(today):
            return enrollment
    raise NotActiveEmployee("no active employee (310) enrollment: only an employee's basic "
                            "insurance is transferred", field="person_id")


def same_pooling_region(a: str, b: str) -> bool:
    return a == b or same_city(a, b)


def check_request(enrollment: Enrollment, open_transfer: Transfer | None,
                  to_region: str) -> None:
    if same_pooling_region(enrollment.pooling_region, to_region):
        raise InvalidField("to_region", f"{to_region} is the enrollment's own pooling region "
                                        f"{enrollment.pooling_region}")
    if open_transfer is not None:
        raise TransferOpen(f"transfer {open_transfer.transfer_id} is still open "
                           f"({open_transfer.status})", transfer_id=open_transfer.transfer_id)


def contribution_months(contributions: Iterable[Contribution]) -> int:
    """Distinct months paid."""
    return len({c.period for c in contributions})


def account_balance_fen(contributions: Iterable[Contribution], rule: AllocationRule) -> int:
    """The personal-account balance to move: what the allocation rule credited from each
    contribution (floor per payment, integer fen). No debits are known to this service."""
    return sum(c.personal_part_fen * rule.personal_part_percent // 100
               + c.employer_part_fen * rule.employer_part_percent // 100 for c in contributions)


def request(transfer_id: str, enrollment: Enrollment, open_transfer: Transfer | None,
            to_region: str, today: date, contributions: list[Contribution],
            rule: AllocationRule) -> Transfer:
    """A new transfer: completed at once within the province, requested across provinces."""
    check_request(enrollment, open_transfer, to_region)
    transfer = Transfer(transfer_id, enrollment.person_id, enrollment.enrollment_id,
                        enrollment.pooling_region, to_region,
                        not same_province(enrollment.pooling_region, to_region), REQUESTED,
                        today)
    if transfer.cross_province:
        return transfer
    return replace(transfer, status=COMPLETED, completed_on=today,
                   contribution_months=contribution_months(contributions),
                   account_balance_fen=account_balance_fen(contributions, rule))


def _step(transfer: Transfer, action: str, what: str) -> str:
    try:
        return TRANSITIONS[(transfer.status, action)]
    except KeyError:
        raise WrongState(f"transfer {transfer.transfer_id} is {transfer.status}: {what} "
                         "is not possible", transfer_status=transfer.status) from None


def confirm_out(transfer: Transfer, contributions: list[Contribution], rule: AllocationRule,
                today: date, stated_balance_fen: int | None = None) -> Transfer:
    status = _step(transfer, "confirm_out", "the out-region's confirmation")
    if stated_balance_fen is not None and stated_balance_fen < 0:
        raise InvalidField("account_balance_fen", "must not be negative")
    balance = (account_balance_fen(contributions, rule) if stated_balance_fen is None
               else stated_balance_fen)
    return replace(transfer, status=status, out_confirmed_on=today,
                   contribution_months=contribution_months(contributions),
                   account_balance_fen=balance)


def complete(transfer: Transfer, today: date) -> Transfer:
    status = _step(transfer, "complete", "completion")
    return replace(transfer, status=status, completed_on=today)


def reject(transfer: Transfer, side: Side, reason: str, today: date) -> Transfer:
    status = _step(transfer, f"reject_{side}", f"a rejection by the {side.replace('_', '-')}")
    if not reason.strip():
        raise InvalidField("reason", "a rejection needs a reason")
    return replace(transfer, status=status, rejected_by=side, reason=reason.strip(),
                   rejected_on=today)
