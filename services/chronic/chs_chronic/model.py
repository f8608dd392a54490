"""The state the rules act on: applications and certifications. Frozen dataclasses whose methods
change state: each returns the new state and the event(s) it raises. No I/O."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, Protocol

import uuid6

from chs_chronic import domain
from chs_chronic.catalog import Catalog, Condition
from chs_chronic.commands import DecideApplication, Evidence, SubmitApplication
from chs_chronic.domain import ApplicationStatus
from chs_events.errors import InvalidField
from chs_events.events.base import Event
from chs_events.events.chronic import (
    CHRONIC_REVOCATION_REASONS,
    SETTLEMENT_REVERSED,
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevocationCode,
    ChronicRevocationReason,
    ChronicRevoked,
)

CertificationStatus = Literal["active", "expired", "revoked"]
Source = Literal["application", "review", "auto"]

EXPIRED_REASON = "validity ended"  # the end reason of a certification whose validity ran out


@dataclass(frozen=True)
class Application:
    application_id: str
    person_id: str
    institution_code: str
    institution_name: str
    doctor_id: str
    doctor_name: str
    discharge_date: date
    diagnosis_codes: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    requested_condition: str | None
    condition_code: str | None
    status: ApplicationStatus
    rule: str | None
    reason: str | None
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    certification_id: str | None = None
    region: str | None = None  # the applying institution's region (whose agency reviews it)

    @classmethod
    def submit(
        cls, command: SubmitApplication, catalog: Catalog, active: Collection[str], at: datetime
    ) -> tuple["Application", "Certification | None", list[Event]]:
        """An application decided at once by the rules (certified or rejected) or queued for a
        reviewer; ``active`` are the person's actively certified condition codes. Raises
        ChronicApplied, then ChronicCertified or ChronicRejected when decided."""
        decision = domain.decide_application(command, catalog, at.date(), active)
        condition = decision.condition
        decided = decision.outcome != "review"
        application = cls(
            str(uuid6.uuid7()),
            command.person_id,
            command.institution_code,
            command.institution_name,
            command.doctor_id,
            command.doctor_name,
            command.discharge_date,
            domain.normalize_diagnoses(command.diagnosis_codes),
            command.evidence,
            command.condition_code,
            condition.code if condition else None,
            decision.status,
            decision.rule,
            decision.reason,
            at,
            decided_at=at if decided else None,
            decided_by="rules" if decided else None,
            region=command.region,
        )
        applied = ChronicApplied.of(
            application,
            condition_name=condition.name if condition else None,
            status="decided" if decided else "pending_review",
            review_reason=None if decided else decision.reason,
        )
        if decision.outcome == "certify":
            assert condition is not None
            application, certification, certified = application._certified(
                condition, "application", at
            )
            return application, certification, [applied, certified]
        if decision.outcome == "reject":
            return application, None, [applied, application._rejected(condition, "rules")]
        return application, None, [applied]

    def decide(
        self,
        command: DecideApplication,
        catalog: Catalog,
        active: Collection[str],
        at: datetime,
    ) -> tuple["Application", "Certification | None", ChronicCertified | ChronicRejected]:
        """A reviewer's decision on the application waiting for review: certified (→
        ChronicCertified) or refused (→ ChronicRejected)."""
        if self.status != "pending_review":
            raise domain.NotPending(
                f"application {self.application_id} is {self.status}, not waiting for review",
                status_now=self.status,
            )
        decision = domain.decide_review(self, command, catalog, active)
        condition = decision.condition
        decided = replace(
            self,
            status=decision.status,
            rule=decision.rule,
            reason=decision.reason,
            condition_code=condition.code if condition else self.condition_code,
            decided_at=at,
            decided_by=command.reviewer,
        )
        if decision.outcome == "certify":
            assert condition is not None
            return decided._certified(condition, "review", at)
        return decided, None, decided._rejected(condition, "review")

    def _certified(
        self, condition: Condition, source: Source, at: datetime
    ) -> tuple["Application", "Certification", ChronicCertified]:
        certification, event = Certification.grant(
            condition,
            self,
            source=source,
            diagnoses=[d for d in self.diagnosis_codes if condition.matches(d)],
            valid_from=self.discharge_date,
            at=at,
            application_id=self.application_id,
        )
        return replace(self, certification_id=certification.certification_id), certification, event

    def _rejected(
        self, condition: Condition | None, decided_by: Literal["rules", "review"]
    ) -> ChronicRejected:
        return ChronicRejected.of(
            self,
            condition_name=condition.name if condition else None,
            rule=self.rule or "",
            reason=self.reason or "",
            decided_by=decided_by,
        )


class Origin(Protocol):
    """What a certification is granted on: the application, or the settlement's command (the
    person, and the institution with its region)."""

    @property
    def person_id(self) -> str: ...

    @property
    def institution_code(self) -> str: ...

    @property
    def institution_name(self) -> str: ...

    @property
    def region(self) -> str | None: ...


@dataclass(frozen=True)
class Certification:
    certification_id: str
    person_id: str
    condition_code: str
    condition_name: str
    source: Source
    application_id: str | None
    settlement_id: str | None
    diagnosis_codes: tuple[str, ...]
    institution_code: str
    institution_name: str
    valid_from: date
    valid_until: date
    annual_cap_fen: int
    pay_ratio_permille: int
    status: CertificationStatus
    certified_at: datetime
    ended_on: date | None = None
    end_reason: str | None = None
    region: str | None = None  # the certifying institution's region (whose agency serves it)

    @classmethod
    def grant(
        cls,
        condition: Condition,
        origin: Origin,
        *,
        source: Source,
        diagnoses: Sequence[str],
        valid_from: date,
        at: datetime,
        application_id: str | None = None,
        settlement_id: str | None = None,
    ) -> tuple["Certification", ChronicCertified]:
        """The condition certified from ``valid_from`` for its catalog months, for the person
        and at the institution of ``origin``: by application, by a reviewer, or without
        application (``auto``, from a settlement)."""
        first, last = domain.validity(condition, valid_from)
        certification = cls(
            str(uuid6.uuid7()),
            origin.person_id,
            condition.code,
            condition.name,
            source,
            application_id,
            settlement_id,
            tuple(diagnoses),
            origin.institution_code,
            origin.institution_name,
            first,
            last,
            condition.annual_cap_fen,
            condition.pay_ratio_permille,
            "active",
            at,
            region=origin.region,
        )
        return certification, ChronicCertified.of(certification)

    def revoke(
        self, reason_code: ChronicRevocationReason, on: date
    ) -> tuple["Certification", ChronicRevoked]:
        """Withdrawn on ``on`` for a reason of the closed list; only an active certification."""
        self._check_active()
        if reason_code not in CHRONIC_REVOCATION_REASONS:
            raise InvalidField("reason_code", "not a revocation reason of the closed list")
        revoked = replace(self, status="revoked", ended_on=on, end_reason=reason_code)
        return revoked, revoked._ended("revoked", reason_code)

    def settlement_reversed(
        self, *, supporting: Collection[str], reversed_: Collection[str], on: date
    ) -> tuple["Certification", ChronicRevoked] | None:
        """A settlement it may rest on was reversed (冲正) on ``on``: ``supporting``, the
        settlements that named its condition while it was active (the one that granted it
        always counts), ``reversed_``, those of them reversed. Active and without application,
        resting on no settlement still standing: revoked (``settlement_reversed``); otherwise it
        stays (None), as does one already ended (the reversal read again)."""
        rests_on = {*supporting, *((self.settlement_id,) if self.settlement_id else ())}
        if self.status != "active" or not domain.falls_with_its_settlements(
            self.source, rests_on, reversed_
        ):
            return None
        revoked = replace(self, status="revoked", ended_on=on, end_reason=SETTLEMENT_REVERSED)
        return revoked, revoked._ended("revoked", SETTLEMENT_REVERSED)

    def expire(self, today: date) -> tuple["Certification", ChronicRevoked]:
        """Ended on its last valid day once that day has passed (``today`` is later)."""
        self._check_active()
        if self.valid_until >= today:
            raise domain.StillValid(
                f"certification {self.certification_id} is valid until "
                f"{self.valid_until.isoformat()}",
                valid_until=self.valid_until.isoformat(),
            )
        expired = replace(
            self, status="expired", ended_on=self.valid_until, end_reason=EXPIRED_REASON
        )
        return expired, expired._ended("expired", None)

    def _check_active(self) -> None:
        if self.status != "active":
            raise domain.NotActive(
                f"certification {self.certification_id} is already {self.status}",
                status_now=self.status,
            )

    def _ended(
        self, reason: Literal["expired", "revoked"], code: ChronicRevocationCode | None
    ) -> ChronicRevoked:
        assert self.ended_on is not None
        return ChronicRevoked.of(self, reason=reason, revocation_code=code)
