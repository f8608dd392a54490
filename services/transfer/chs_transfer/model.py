"""The state the transfer rules act on: contributions, transfers (and the enrollments of
``chs_events.read_models.enrollments``).

Plain frozen dataclasses, loaded and stored by ``repository``; no I/O here.
"""
from dataclasses import dataclass
from datetime import date
from typing import Literal

EMPLOYEE = "310"
Status = Literal["requested", "out_confirmed", "completed", "rejected"]
REQUESTED, OUT_CONFIRMED, COMPLETED, REJECTED = "requested", "out_confirmed", "completed", "rejected"
OPEN = frozenset({REQUESTED, OUT_CONFIRMED})
Side = Literal["out_region", "in_region"]


@dataclass(frozen=True)
class Contribution:
    payment_id: str
    enrollment_id: str
    period: str
    employer_part_fen: int
    personal_part_fen: int


@dataclass(frozen=True)
class AllocationRule:
    """Percent of each contribution part credited to the personal account (policy data)."""

    personal_part_percent: int = 100
    employer_part_percent: int = 0


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    person_id: str
    enrollment_id: str
    from_region: str
    to_region: str
    cross_province: bool
    status: Status
    requested_on: date
    contribution_months: int | None = None
    account_balance_fen: int | None = None
    rejected_by: Side | None = None
    reason: str | None = None
    out_confirmed_on: date | None = None
    completed_on: date | None = None
    rejected_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN
