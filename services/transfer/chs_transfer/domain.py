"""The rules of relationship transfer (关系转移接续), over ``model`` state. No I/O.

The state machine of one transfer is ``model.Transfer``'s (its methods check the state). Only
an active employee (310) enrollment moves; never to its own pooling region (the same
prefecture-level city pools once); at most one open transfer per person.

No balance is counted or taken from a caller here: the ledger moves what it holds and reports
it; only a transfer into the province takes the balance the out-province confirmed through the
national transfer platform, entered by the receiving region's staff, within
``MAX_TRANSFER_IN_FEN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from chs_events.errors import Conflict, InvalidField, NotFound, NotPermitted, Rejected
from chs_events.events.transfer import MAX_TRANSFER_IN_FEN
from chs_events.read_models.enrollments import Enrollment
from chs_events.regions import same_city, same_province
from chs_events.vocabulary import EMPLOYEE

if TYPE_CHECKING:  # model's Transfer calls these rules
    from chs_transfer.model import Contribution, Transfer


class NotActiveEmployee(Rejected):
    """No active employee (310) enrollment is known for the person (yet)."""


class TransferNotFound(NotFound):
    pass


class TransferOpen(Conflict):
    pass


class WrongState(Conflict):
    pass


class NotYoursToState(NotPermitted):
    """A caller stated a personal-account balance it may not state (403): only the receiving
    region's agency staff, for a transfer into the province, from the national platform."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, reason="balance_not_yours_to_state")


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


def into_province(from_region: str, to_region: str, home_province: str) -> bool:
    """A transfer from another province into the one this platform serves."""
    return same_province(to_region, home_province) and not same_province(from_region, home_province)


def check_no_stated_balance(stated_balance_fen: int | None) -> None:
    """The out-region's confirmation states no balance (whoever sends it)."""
    if stated_balance_fen is not None:
        raise NotYoursToState(
            "the out-region's confirmation states no personal-account balance: the ledger "
            "moves the balance it holds, and a transfer into the province takes the balance "
            "the national transfer platform confirmed, entered at its completion by the "
            "receiving region"
        )


def check_confirmation(into: bool, balance_fen: int | None) -> None:
    """Into the province the completion brings the national platform's confirmed balance
    (bounded); any other completion brings none (the ledger moves what it holds)."""
    if not into:
        if balance_fen is not None:
            raise NotYoursToState(
                "a transfer out of the province moves the balance the ledger holds: the "
                "completion states none"
            )
        return
    if balance_fen is None:
        raise InvalidField(
            "account_balance_fen",
            "a transfer into the province needs the balance the out-province confirmed through "
            "the national transfer platform, with platform_reference",
        )
    if not 0 <= balance_fen <= MAX_TRANSFER_IN_FEN:
        raise InvalidField(
            "account_balance_fen", f"must be between 0 and {MAX_TRANSFER_IN_FEN} fen"
        )
