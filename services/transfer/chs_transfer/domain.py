"""The rules of relationship transfer (关系转移接续), over ``model`` state. No I/O.

The state machine of one transfer is ``model.Transfer``'s (its methods check the state). Only
an active employee (310) enrollment moves; never to its own pooling region (the same
prefecture-level city pools once); at most one open transfer per person.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from chs_events.errors import Conflict, InvalidField, NotFound, Rejected
from chs_events.read_models.enrollments import Enrollment
from chs_events.regions import same_city
from chs_events.vocabulary import EMPLOYEE

if TYPE_CHECKING:  # model's Transfer calls these rules
    from chs_transfer.model import AllocationRule, Contribution, Transfer


class NotActiveEmployee(Rejected):
    """No active employee (310) enrollment is known for the person (yet)."""


class TransferNotFound(NotFound):
    pass


class TransferOpen(Conflict):
    pass


class WrongState(Conflict):
    pass


def active_employee_enrollment(enrollments: Iterable[Enrollment], today: date) -> Enrollment:
    for enrollment in enrollments:
        if enrollment.insutype == EMPLOYEE and enrollment.active_on(today):
            return enrollment
    raise NotActiveEmployee(
        "no active employee (310) enrollment: only an employee's basic insurance is transferred",
        field="person_id",
    )


def same_pooling_region(a: str, b: str) -> bool:
    return a == b or same_city(a, b)


def check_request(enrollment: Enrollment, open_transfer: Transfer | None, to_region: str) -> None:
    if same_pooling_region(enrollment.pooling_region, to_region):
        raise InvalidField(
            "to_region",
            f"{to_region} is the enrollment's own pooling region {enrollment.pooling_region}",
        )
    if open_transfer is not None:
        raise TransferOpen(
            f"transfer {open_transfer.transfer_id} is still open ({open_transfer.status})",
            transfer_id=open_transfer.transfer_id,
        )


def contribution_months(contributions: Iterable[Contribution]) -> int:
    """Distinct months paid."""
    return len({c.period for c in contributions})


def account_balance_fen(contributions: Iterable[Contribution], rule: AllocationRule) -> int:
    """The personal-account balance to move: what the allocation rule credited from each
    contribution (floor per payment, integer fen). No debits are known to this service."""
    return sum(
        c.personal_part_fen * rule.personal_part_percent // 100
        + c.employer_part_fen * rule.employer_part_percent // 100
        for c in contributions
    )
