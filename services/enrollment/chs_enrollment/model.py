"""The state the enrollment rules act on: persons, employers, enrollments, payments.

Plain frozen dataclasses, loaded and stored by ``repository``; no I/O here.
"""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from chs_enrollment.commands import Sex

EMPLOYEE, RESIDENT = "310", "390"
Insutype = Literal["310", "390"]
INSUTYPE_NAMES = {EMPLOYEE: "职工基本医疗保险", RESIDENT: "城乡居民基本医疗保险"}


@dataclass(frozen=True)
class Person:
    person_id: str
    id_number: str | None
    name: str
    sex: Sex
    birth_date: date
    mobile: str | None
    region_code: str
    birth_certificate_no: str | None = None
    guardian_person_id: str | None = None


@dataclass(frozen=True)
class Employer:
    employer_id: str
    name: str
    region_code: str


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: str
    person_id: str
    insutype: Insutype
    pooling_region: str
    start_date: date
    employer_id: str | None = None
    contribution_base_fen: int | None = None
    end_date: date | None = None
    end_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.end_date is None

    def status_on(self, day: date) -> Literal["active", "terminated"]:
        return "active" if self.end_date is None or self.end_date >= day else "terminated"


@dataclass(frozen=True)
class Payment:
    payment_id: str
    enrollment_id: str
    person_id: str
    period: str
    amount_fen: int
    employer_part_fen: int
    personal_part_fen: int
    paid_at: datetime
