"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox, under the person's lock. The settlement consumer is in ``consumers``."""
import logging
from dataclasses import replace
from datetime import date

import asyncpg
import uuid6

from chs_events.clock import now, today
from chs_events.events.maternity import (
    MaternityAllowanceApproved,
    MaternityAllowancePaid,
    MaternityApplied,
)
from chs_events.read_models.enrollments import active_enrollment
from chs_events.unit_of_work import UnitOfWork

from chs_maternity import domain, repository
from chs_maternity.commands import ApproveApplication, PayAllowance, SubmitApplication
from chs_maternity.model import Allowance, Application

log = logging.getLogger(__name__)

SOURCE = "/chs/maternity"
EMPLOYEE = "310"  # only employee basic insurance (职工基本医疗保险) pays the allowance


class NoWage(domain.Unprocessable):
    """The employer has no staff with a contribution base on the day."""


async def monthly_wage(conn: asyncpg.Connection, employer_id: str, day: date) -> int:
    average = domain.average_wage_fen(await repository.staff_bases_on(conn, employer_id, day))
    if average is None:
        raise NoWage(f"employer {employer_id} has no staff enrolled on {day.isoformat()}")
    return average


def new_allowance(*, person_id: str, employer_id: str, monthly_wage_fen: int,
                  confinement: domain.Confinement, event_date: date,
                  settlement_id: str | None = None,
                  application_id: str | None = None) -> Allowance:
    computed = domain.allowance(monthly_wage_fen, confinement)
    return Allowance(
        str(uuid6.uuid7()), person_id, "auto" if settlement_id else "application", settlement_id,
        application_id, employer_id, confinement.kind, event_date, confinement.babies,
        confinement.difficult_birth, confinement.gestational_weeks, computed.leave_days,
        computed.monthly_wage_fen, computed.daily_wage_fen, computed.amount_fen, "approved",
        now())


def approved(a: Allowance) -> MaternityAllowanceApproved:
    return MaternityAllowanceApproved(
        person_id=a.person_id, allowance_id=a.allowance_id, source=a.source,
        settlement_id=a.settlement_id, application_id=a.application_id,
        employer_id=a.employer_id, kind=a.kind, event_date=a.event_date, babies=a.babies,
        difficult_birth=a.difficult_birth, gestational_weeks=a.gestational_weeks,
        leave_days=a.leave_days, monthly_wage_fen=a.monthly_wage_fen,
        daily_wage_fen=a.daily_wage_fen, amount_fen=a.amount_fen)


async def enrolled_employer(conn: asyncpg.Connection, person_id: str,
                             day: date) -> tuple[str, str] | None:
    """(enrollment id, employer id) of the person's employee enrollment active on ``day``."""
    enrollment = await active_enrollment(conn, person_id, EMPLOYEE, day)
    if enrollment is None:
        return None
    employer_id = await repository.employer_of(conn, enrollment.enrollment_id)
    return (enrollment.enrollment_id, employer_id) if employer_id else None


def _confinement(a: Application) -> domain.Confinement:
    if a.kind == "miscarriage":
        return domain.Confinement("miscarriage", babies=0,
                                  gestational_weeks=a.gestational_weeks)
    return domain.Confinement("birth", babies=a.babies, difficult_birth=a.difficult_birth)


async def handle_submit(conn: asyncpg.Connection, command: SubmitApplication) -> Application:
    c = command
    if c.kind == "miscarriage" and c.gestational_weeks is None:
        raise domain.InvalidField("gestational_weeks", "a miscarriage needs the weeks")
    if c.kind == "birth" and c.babies < 1:
        raise domain.InvalidField("babies", "a birth has at least one baby")
    async with UnitOfWork(conn, source=SOURCE, correlation_id=c.correlation_id) as uow:
        await repository.lock_person(conn, c.person_id)
        found = await enrolled_employer(conn, c.person_id, c.event_date)
        if found is None:
            raise domain.NotEnrolled(
                f"no employee enrollment with an employer on {c.event_date.isoformat()}")
        existing = await repository.same_confinement(conn, c.person_id, c.event_date)
        if existing is not None:
            raise domain.AlreadyGranted(
                f"allowance {existing.allowance_id} was granted for this confinement",
                allowance_id=existing.allowance_id)
        enrollment_id, employer_id = found
        application = Application(
            str(uuid6.uuid7()), c.person_id, enrollment_id, employer_id, c.kind, c.event_date,
            c.babies if c.kind == "birth" else 0, c.difficult_birth and c.kind == "birth",
            c.gestational_weeks if c.kind == "miscarriage" else None, c.reference, "pending",
            now())
        await repository.insert_application(conn, application)
        await uow.record(MaternityApplied(
            person_id=c.person_id, application_id=application.application_id,
            employer_id=employer_id, kind=c.kind, event_date=c.event_date))
    return application


async def handle_approve(conn: asyncpg.Connection,
                         command: ApproveApplication) -> tuple[Application, Allowance]:
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        found = await repository.get_application(conn, command.application_id)
        if found is None:
            raise domain.ApplicationNotFound(f"no application {command.application_id}")
        await repository.lock_person(conn, found.person_id)
        application = await repository.get_application(conn, command.application_id,
                                                       for_update=True)
        if application.status != "pending":
            raise domain.NotPending(f"application {application.application_id} is already "
                                    f"{application.status}", status_now=application.status)
        existing = await repository.same_confinement(conn, application.person_id,
                                                     application.event_date)
        if existing is not None:
            raise domain.AlreadyGranted(
                f"allowance {existing.allowance_id} was granted for this confinement",
                allowance_id=existing.allowance_id)
        wage = await monthly_wage(conn, application.employer_id, application.event_date)
        allowance = new_allowance(
            person_id=application.person_id, employer_id=application.employer_id,
            monthly_wage_fen=wage, confinement=_confinement(application),
            event_date=application.event_date, application_id=application.application_id)
        application = replace(application, status="approved", decided_at=allowance.approved_at,
                              decided_by=command.reviewer, allowance_id=allowance.allowance_id)
        await repository.record_approval(conn, application)
        await repository.insert_allowance(conn, allowance)
        await uow.record(approved(allowance))
    return application, allowance


async def handle_pay(conn: asyncpg.Connection, command: PayAllowance) -> Allowance:
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        found = await repository.get_allowance(conn, command.allowance_id)
        if found is None:
            raise domain.AllowanceNotFound(f"no allowance {command.allowance_id}")
        await repository.lock_person(conn, found.person_id)
        current = await repository.get_allowance(conn, command.allowance_id, for_update=True)
        if current.status == "paid" and current.payment_reference == command.payment_reference:
            return current  # the same payment reported again
        if current.status != "approved":
            raise domain.NotPending(f"allowance {current.allowance_id} is already "
                                    f"{current.status}", status_now=current.status)
        paid_on = command.paid_on or today()
        if paid_on > today():
            raise domain.InvalidField("paid_on", f"{paid_on} is in the future")
        paid = await repository.record_payment(conn, current.allowance_id, paid_on,
                                               command.payment_reference)
        await uow.record(MaternityAllowancePaid(
            person_id=paid.person_id, allowance_id=paid.allowance_id,
            amount_fen=paid.amount_fen, paid_on=paid.paid_on,
            payment_reference=command.payment_reference))
    return paid
