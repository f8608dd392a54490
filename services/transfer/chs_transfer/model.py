"""The state the transfer rules act on: contributions, transfers (and the enrollments of
``chs_events.read_models.enrollments``).

The personal-account balance is not this service's to count or to take from a caller: the
ledger (the accounts service) moves what it holds when a transfer completes and reports it
(``account_balance_fen`` is what it reported); only a transfer into the province brings the
balance the out-province confirmed through the national transfer platform
(``PlatformConfirmation``), entered by agency staff of the receiving region.

Frozen dataclasses, loaded and stored by ``repository``. A ``Transfer``'s methods walk its state
machine: each returns the new state and the event(s) it raises. No I/O.

    within one province:  requested ──(at once)──► completed
    across provinces:     requested ──out-region confirms──► out_confirmed ──in-region──► completed
                          requested ──out-region refuses──► rejected
                          out_confirmed ──in-region refuses──► rejected
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from chs_events.errors import InvalidField
from chs_events.events.transfer import (
    TRANSFER_REJECTION_REASONS,
    TransferCompleted,
    TransferOutConfirmed,
    TransferRejected,
    TransferRejectionReason,
    TransferRequested,
)
from chs_events.read_models.enrollments import Enrollment
from chs_events.regions import same_province
from chs_transfer import domain

Status = Literal["requested", "out_confirmed", "completed", "rejected"]
REQUESTED: Status = "requested"
OUT_CONFIRMED: Status = "out_confirmed"
COMPLETED: Status = "completed"
REJECTED: Status = "rejected"
OPEN = frozenset({REQUESTED, OUT_CONFIRMED})
Side = Literal["out_region", "in_region"]

# Which step is possible in which state, and the state it leads to.
TRANSITIONS: dict[tuple[Status, str], Status] = {
    (REQUESTED, "confirm_out"): OUT_CONFIRMED,
    (REQUESTED, "reject_out_region"): REJECTED,
    (OUT_CONFIRMED, "complete"): COMPLETED,
    (OUT_CONFIRMED, "reject_in_region"): REJECTED,
}


@dataclass(frozen=True)
class Contribution:
    payment_id: str
    enrollment_id: str
    period: str
    employer_part_fen: int
    personal_part_fen: int


@dataclass(frozen=True)
class PlatformConfirmation:
    """What the out-province confirmed through the national transfer platform for a transfer
    into the province: the balance, the platform's reference, and the receiving region's agency
    staff who entered it (the token's subject)."""

    balance_fen: int
    platform_reference: str
    confirmed_by: str


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
    account_balance_fen: int | None = None  # what the ledger reported it moved
    rejected_by: Side | None = None
    reason_code: TransferRejectionReason | None = None
    out_confirmed_on: date | None = None
    completed_on: date | None = None
    rejected_on: date | None = None
    confirmed_balance_fen: int | None = None  # into the province: the platform's confirmation
    platform_reference: str | None = None
    confirmed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @classmethod
    def request(
        cls,
        transfer_id: str,
        enrollment: Enrollment,
        open_transfer: "Transfer | None",
        to_region: str,
        today: date,
        contributions: list[Contribution],
    ) -> tuple["Transfer", tuple[TransferRequested] | tuple[TransferRequested, TransferCompleted]]:
        """A new transfer of ``enrollment`` (the person's active employee one): requested
        across provinces; within the province completed at once (TransferRequested, then
        TransferCompleted; the ledger then moves the balance it holds and reports it)."""
        domain.check_request(enrollment, open_transfer, to_region)
        transfer = cls(
            transfer_id,
            enrollment.person_id,
            enrollment.enrollment_id,
            enrollment.pooling_region,
            to_region,
            not same_province(enrollment.pooling_region, to_region),
            REQUESTED,
            today,
        )
        requested = transfer._requested()
        if transfer.cross_province:
            return transfer, (requested,)
        transfer = replace(
            transfer,
            status=COMPLETED,
            completed_on=today,
            contribution_months=domain.contribution_months(contributions),
        )
        return transfer, (requested, transfer._completed())

    def confirm_out(
        self,
        contributions: list[Contribution],
        today: date,
        stated_balance_fen: int | None = None,
    ) -> tuple["Transfer", TransferOutConfirmed]:
        """The out-region confirms the months paid. It states no balance (``NotYoursToState``):
        the ledger moves what it holds, or, into the province, the national platform's
        confirmation is entered at the completion."""
        status = self._step("confirm_out", "the out-region's confirmation")
        domain.check_no_stated_balance(stated_balance_fen)
        confirmed = replace(
            self,
            status=status,
            out_confirmed_on=today,
            contribution_months=domain.contribution_months(contributions),
        )
        return confirmed, TransferOutConfirmed.of(
            confirmed, contribution_months=confirmed.contribution_months or 0, confirmed_on=today
        )

    def complete(
        self, today: date, home_province: str, confirmation: PlatformConfirmation | None = None
    ) -> tuple["Transfer", TransferCompleted]:
        """The in-region takes the insurance over (once out-confirmed). Into the province it
        needs the balance the out-province confirmed through the national transfer platform
        (at most ``MAX_TRANSFER_IN_FEN``); out of it nobody states one."""
        status = self._step("complete", "completion")
        domain.check_confirmation(
            domain.into_province(self.from_region, self.to_region, home_province),
            None if confirmation is None else confirmation.balance_fen,
        )
        completed = replace(self, status=status, completed_on=today)
        if confirmation is not None:
            completed = replace(
                completed,
                confirmed_balance_fen=confirmation.balance_fen,
                platform_reference=confirmation.platform_reference,
                confirmed_by=confirmation.confirmed_by,
            )
        return completed, completed._completed()

    def reject(
        self, side: Side, reason_code: TransferRejectionReason, today: date
    ) -> tuple["Transfer", TransferRejected]:
        """The out-region refuses while requested, the in-region once out-confirmed, for a
        reason of the closed list (its text is the SMS's)."""
        status = self._step(f"reject_{side}", f"a rejection by the {side.replace('_', '-')}")
        if reason_code not in TRANSFER_REJECTION_REASONS:
            raise InvalidField("reason_code", "not a rejection reason of the closed list")
        rejected = replace(
            self, status=status, rejected_by=side, reason_code=reason_code, rejected_on=today
        )
        return rejected, TransferRejected.of(rejected)

    def _step(self, action: str, what: str) -> Status:
        try:
            return TRANSITIONS[(self.status, action)]
        except KeyError:
            raise domain.WrongState(
                f"transfer {self.transfer_id} is {self.status}: {what} is not possible",
                transfer_status=self.status,
            ) from None

    def _requested(self) -> TransferRequested:
        return TransferRequested.of(self)

    def _completed(self) -> TransferCompleted:
        return TransferCompleted.of(self, contribution_months=self.contribution_months or 0)
