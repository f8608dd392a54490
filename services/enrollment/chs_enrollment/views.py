"""Read side: a person with enrollments, and the enrollment certificate (参保证明)."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from chs_enrollment import domain, repository
from chs_enrollment.handlers import PersonView
from chs_enrollment.model import Enrollment, Person
from chs_events.clock import now


@dataclass(frozen=True)
class CertificateLine:
    enrollment: Enrollment
    employer_name: str | None
    status: str
    contribution_months: int


@dataclass(frozen=True)
class Certificate:
    person: Person
    lines: list[CertificateLine]
    contribution_months: dict[str, int]
    issued_at: datetime


async def person_view(conn: asyncpg.Connection, person_id: str) -> PersonView:
    person = await repository.get_person(conn, person_id)
    if person is None:
        raise domain.PersonNotFound(f"no person {person_id}")
    enrollments = (await repository.enrollments_of(conn, [person_id])).get(person_id, [])
    return PersonView(person, enrollments)


async def pooling_regions(conn: asyncpg.Connection, person_id: str) -> set[str]:
    """The pooling regions the person is or was enrolled in (an agency of one of them serves
    the person)."""
    enrollments = (await repository.enrollments_of(conn, [person_id])).get(person_id, [])
    return {e.pooling_region for e in enrollments}


async def certificate(conn: asyncpg.Connection, person_id: str) -> Certificate:
    """What the person is enrolled in, on the day of issue, and the months paid."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        view = await person_view(conn, person_id)
        payments = await repository.payments_of(conn, person_id)
        employers = await repository.employer_names(
            conn, [e.employer_id for e in view.enrollments if e.employer_id]
        )
    issued_at = now()
    months_of = {e.enrollment_id: 0 for e in view.enrollments}
    for payment in payments:
        months_of[payment.enrollment_id] += 1
    lines = [
        CertificateLine(
            e,
            employers.get(e.employer_id or ""),
            e.status_on(issued_at.date()),
            months_of[e.enrollment_id],
        )
        for e in view.enrollments
    ]
    return Certificate(
        view.person, lines, domain.contribution_months(view.enrollments, payments), issued_at
    )
