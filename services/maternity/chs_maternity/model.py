"""The state the rules act on: applications, allowances and recovery items. Frozen dataclasses
whose methods change state: each returns the new state and the event it raises. No I/O."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

import uuid6

from chs_events.attributes import made_of
from chs_events.errors import InvalidField
from chs_events.events.maternity import (
    MaternityAllowanceApproved,
    MaternityAllowanceCancelled,
    MaternityAllowancePaid,
    MaternityApplied,
    MaternityRecoveryRaised,
)
from chs_events.events.reimbursement import SettlementReversalReason
from chs_maternity import domain
from chs_maternity.commands import GrantForSettlement, SubmitApplication
from chs_maternity.domain import Confinement, Kind


@dataclass(frozen=True)
class Application:
    application_id: str
    person_id: str
    enrollment_id: str
    employer_id: str
    kind: Kind
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    reference: str
    status: Literal["pending", "approved"]
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    allowance_id: str | None = None

    @classmethod
    def submit(
        cls,
        command: SubmitApplication,
        *,
        enrollment_id: str,
        employer_id: str,
        granted: "Allowance | None",
        at: datetime,
    ) -> tuple["Application", MaternityApplied]:
        """The pending application of ``command``, under the person's employee enrollment and
        its employer on the day, for a confinement no allowance was granted for yet."""
        c = command
        domain.check_confinement_fields(c.kind, c.babies, c.gestational_weeks)
        domain.check_not_granted(granted.allowance_id if granted else None)
        application = cls(
            str(uuid6.uuid7()),
            c.person_id,
            enrollment_id,
            employer_id,
            c.kind,
            c.event_date,
            c.babies if c.kind == "birth" else 0,
            c.difficult_birth and c.kind == "birth",
            c.gestational_weeks if c.kind == "miscarriage" else None,
            c.reference,
            "pending",
            at,
        )
        return application, MaternityApplied.of(application)

    @property
    def confinement(self) -> Confinement:
        if self.kind == "miscarriage":
            return Confinement("miscarriage", babies=0, gestational_weeks=self.gestational_weeks)
        return Confinement("birth", babies=self.babies, difficult_birth=self.difficult_birth)

    def approve(
        self,
        *,
        reviewer: str,
        monthly_wage_fen: int | None,
        granted: "Allowance | None",
        at: datetime,
    ) -> tuple["Application", "Allowance", MaternityAllowanceApproved]:
        """Approved by ``reviewer``: the allowance at the employer's monthly average wage on the
        day (``None``: no staff to average) is granted; refused when the application was
        decided, or the confinement already granted."""
        if self.status != "pending":
            raise domain.NotPending(
                f"application {self.application_id} is already {self.status}",
                status_now=self.status,
            )
        domain.check_not_granted(granted.allowance_id if granted else None)
        allowance, event = Allowance.grant(
            person_id=self.person_id,
            employer_id=self.employer_id,
            monthly_wage_fen=monthly_wage_fen,
            confinement=self.confinement,
            event_date=self.event_date,
            at=at,
            application_id=self.application_id,
        )
        approved = replace(
            self,
            status="approved",
            decided_at=allowance.approved_at,
            decided_by=reviewer,
            allowance_id=allowance.allowance_id,
        )
        return approved, allowance, event


@dataclass(frozen=True)
class Allowance:
    allowance_id: str
    person_id: str
    source: Literal["auto", "application"]
    settlement_id: str | None
    application_id: str | None
    employer_id: str
    kind: Kind
    event_date: date
    babies: int
    difficult_birth: bool
    gestational_weeks: int | None
    leave_days: int
    monthly_wage_fen: int
    daily_wage_fen: int
    amount_fen: int
    status: Literal["approved", "paid", "cancelled"]
    approved_at: datetime
    paid_on: date | None = None
    payment_reference: str | None = None
    # when the settlement that granted it was reversed (冲正): cancelled, or paid and recovered
    settlement_reversed_at: datetime | None = None

    @classmethod
    def grant(
        cls,
        *,
        person_id: str,
        employer_id: str,
        monthly_wage_fen: int | None,
        confinement: Confinement,
        event_date: date,
        at: datetime,
        settlement_id: str | None = None,
        application_id: str | None = None,
    ) -> tuple["Allowance", MaternityAllowanceApproved]:
        """The allowance for a confinement, granted from a settlement (``settlement_id``, source
        auto) or an approved application, at the employer's monthly average wage on the day
        (``None``: the employer has no staff enrolled then, nothing to compute from)."""
        if monthly_wage_fen is None:
            raise domain.NoWage(
                f"employer {employer_id} has no staff enrolled on {event_date.isoformat()}"
            )
        amount = domain.allowance(monthly_wage_fen, confinement)
        allowance = cls(
            str(uuid6.uuid7()),
            person_id,
            "auto" if settlement_id else "application",
            settlement_id,
            application_id,
            employer_id,
            confinement.kind,
            event_date,
            confinement.babies,
            confinement.difficult_birth,
            confinement.gestational_weeks,
            amount.leave_days,
            amount.monthly_wage_fen,
            amount.daily_wage_fen,
            amount.amount_fen,
            "approved",
            at,
        )
        return allowance, allowance.approved_event()

    @classmethod
    def grant_for_settlement(
        cls,
        command: GrantForSettlement,
        *,
        employer_id: str,
        monthly_wage_fen: int | None,
        granted: "Allowance | None",
        at: datetime,
    ) -> tuple["Allowance", MaternityAllowanceApproved]:
        """免申即享: the allowance ``command``'s delivery settlement grants without application
        (at the wage of the mother's employer on the day), unless one was granted for the
        confinement (``granted``)."""
        domain.check_not_granted(granted.allowance_id if granted else None)
        c = command
        return cls.grant(
            person_id=c.person_id,
            employer_id=employer_id,
            monthly_wage_fen=monthly_wage_fen,
            confinement=c.confinement,
            event_date=c.event_date,
            at=at,
            settlement_id=c.settlement_id,
        )

    def approved_event(self) -> MaternityAllowanceApproved:
        return MaternityAllowanceApproved.of(self)

    def pay(
        self, paid_on: date | None, reference: str, today: date
    ) -> tuple["Allowance", MaternityAllowancePaid | None]:
        """Paid on ``paid_on`` (``today`` when not given, never later) with the payment's
        ``reference``. The same payment reported again changes nothing and raises no event
        (``None``); any other payment of an allowance no longer approved is refused."""
        if self.status == "paid" and self.payment_reference == reference:
            return self, None
        if self.status != "approved":
            raise domain.NotPending(
                f"allowance {self.allowance_id} is already {self.status}", status_now=self.status
            )
        day = paid_on or today
        if day > today:
            raise InvalidField("paid_on", f"{day} is in the future")
        paid = replace(self, status="paid", paid_on=day, payment_reference=reference)
        return paid, MaternityAllowancePaid.of(paid)

    def settlement_reversed(
        self, reason_code: SettlementReversalReason, *, region: str, at: datetime
    ) -> tuple[
        "Allowance",
        "Recovery | None",
        MaternityAllowanceCancelled | MaternityRecoveryRaised | None,
    ]:
        """The settlement that granted it was reversed (冲正) at ``at`` for ``reason_code``: not
        yet paid, it is cancelled; paid, it stays paid and a recovery item (追回) of the amount
        is raised for the agency of ``region``. Once reversed, the same reversal again changes
        nothing (no recovery, no event)."""
        if self.settlement_id is None:
            raise ValueError(f"allowance {self.allowance_id} was not granted by a settlement")
        if self.settlement_reversed_at is not None:
            return self, None, None
        if self.status == "approved":
            cancelled = replace(self, status="cancelled", settlement_reversed_at=at)
            return (
                cancelled,
                None,
                MaternityAllowanceCancelled.of(
                    cancelled, reason="settlement_reversed", reversal_reason_code=reason_code
                ),
            )
        reversed_ = replace(self, settlement_reversed_at=at)
        recovery, raised = Recovery.raise_for(reversed_, reason_code, region=region, at=at)
        return reversed_, recovery, raised


@dataclass(frozen=True)
class Recovery:
    """A recovery item (追回): an allowance paid from a settlement that was reversed afterwards;
    the agency of ``region`` recovers ``amount_fen`` paid under ``payment_reference``."""

    recovery_id: str
    person_id: str
    allowance_id: str
    settlement_id: str
    event_date: date
    amount_fen: int
    payment_reference: str
    reversal_reason_code: SettlementReversalReason
    region: str
    status: Literal["open"]
    raised_at: datetime

    @classmethod
    def raise_for(
        cls,
        allowance: Allowance,
        reason_code: SettlementReversalReason,
        *,
        region: str,
        at: datetime,
    ) -> tuple["Recovery", MaternityRecoveryRaised]:
        """The open item for the paid ``allowance`` whose settlement was reversed."""
        if allowance.status != "paid" or allowance.payment_reference is None:
            raise ValueError(f"allowance {allowance.allowance_id} was not paid")
        assert allowance.settlement_id is not None
        given = {
            "recovery_id": str(uuid6.uuid7()),
            "reversal_reason_code": reason_code,
            "region": region,
            "status": "open",
            "raised_at": at,
        }
        recovery = made_of(cls, allowance, **given)
        return recovery, MaternityRecoveryRaised.of(recovery)
