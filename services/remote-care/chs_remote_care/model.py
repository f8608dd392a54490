"""The remote-care aggregate: a filing (异地就医备案). Its methods change its state and return
the new state with the event it raises; no I/O."""

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from chs_events.events.remote_care import (
    FilingCategory,
    FilingType,
    RemoteCareExpired,
    RemoteCareFiled,
    RemoteCareRevoked,
)
from chs_events.read_models.filings import Cover
from chs_remote_care import domain

Status = Literal["active", "revoked", "expired"]


@dataclass(frozen=True)
class Filing(Cover):
    filing_id: str
    person_id: str
    filing_type: FilingType
    category: FilingCategory
    destination_region: str
    home_region: str
    insutype: str
    enrollment_id: str
    valid_from: date
    valid_until: date | None
    filed_on: date
    admission_date: date | None = None
    discharge_date: date | None = None
    status: Status = "active"
    revoked_on: date | None = None
    revoke_reason: str | None = None

    @property
    def back_dated(self) -> bool:
        return self.valid_from < self.filed_on

    @classmethod
    def file(
        cls,
        filing_id: str,
        *,
        person_id: str,
        filing_type: FilingType,
        category: FilingCategory,
        destination_region: str,
        terms: domain.Terms,
        filed_on: date,
        discharge_date: date | None = None,
    ) -> "tuple[Filing, RemoteCareFiled]":
        """A filing the rules accepted (``domain.check_filing``), approved at once (秒备案)."""
        enrollment = terms.enrollment
        filing = cls(
            filing_id,
            person_id,
            filing_type,
            category,
            destination_region,
            enrollment.pooling_region,
            enrollment.insutype,
            enrollment.enrollment_id,
            terms.valid_from,
            terms.valid_until,
            filed_on,
            terms.admission_date,
            discharge_date,
        )
        return filing, RemoteCareFiled.of(filing)

    def revoke(self, on: date, reason: str | None = None) -> "tuple[Filing, RemoteCareRevoked]":
        """Revoked from ``on``: only an active filing is."""
        domain.check_revoke(self)
        revoked = replace(self, status="revoked", revoked_on=on, revoke_reason=reason)
        return revoked, RemoteCareRevoked.of(revoked, reason=reason)

    def expire(self, today: date) -> "tuple[Filing, RemoteCareExpired]":
        """Expired: an active filing whose validity ended before ``today``."""
        domain.check_expire(self, today)
        expired = replace(self, status="expired")
        return expired, RemoteCareExpired.of(expired)
