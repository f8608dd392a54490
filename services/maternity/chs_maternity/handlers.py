"""Command handlers: each runs in ONE unit of work that loads the state under the person's lock,
asks the aggregate (``model``) for the change, saves what it returns and records its event."""

import logging
from datetime import date

import asyncpg

from chs_events.clock import now, today
from chs_events.locks import lock_person
from chs_events.read_models.enrollments import active_enrollment
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import EMPLOYEE
from chs_maternity import domain, repository
from chs_maternity.commands import (
    ApproveApplication,
    GrantForSettlement,
    PayAllowance,
    SubmitApplication,
    UndoReversedSettlement,
)
from chs_maternity.model import Allowance, Application

log = logging.getLogger(__name__)


async def monthly_wage(conn: asyncpg.Connection, employer_id: str, day: date) -> int | None:
    """The employer's monthly average wage on ``day``; None when no staff is enrolled then."""
    return domain.average_wage_fen(await repository.staff_bases_on(conn, employer_id, day))


async def enrolled_employer(
    conn: asyncpg.Connection, person_id: str, day: date
) -> tuple[str, str] | None:
    """(enrollment id, employer id) of the person's employee enrollment active on ``day``."""
    enrollment = await active_enrollment(conn, person_id, EMPLOYEE, day)
    if enrollment is None:
        return None
    employer_id = await repository.employer_of(conn, enrollment.enrollment_id)
    return (enrollment.enrollment_id, employer_id) if employer_id else None


async def handle_submit(uow: UnitOfWork, command: SubmitApplication) -> Application:
    c = command
    domain.check_confinement_fields(c.kind, c.babies, c.gestational_weeks)
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        found = await enrolled_employer(conn, c.person_id, c.event_date)
        if found is None:
            raise domain.NotEnrolled(
                f"no employee enrollment with an employer on {c.event_date.isoformat()}"
            )
        enrollment_id, employer_id = found
        application, event = Application.submit(
            c,
            enrollment_id=enrollment_id,
            employer_id=employer_id,
            granted=await repository.same_confinement(conn, c.person_id, c.event_date),
            at=now(),
        )
        await repository.insert_application(conn, application)
        await uow.record(event)
    return application


async def handle_approve(
    uow: UnitOfWork, command: ApproveApplication
) -> tuple[Application, Allowance]:
    async with uow:
        conn = uow.conn
        application = await repository.applications.for_change(conn, command.application_id)
        approved, allowance, event = application.approve(
            reviewer=command.reviewer,
            monthly_wage_fen=await monthly_wage(
                conn, application.employer_id, application.event_date
            ),
            granted=await repository.same_confinement(
                conn, application.person_id, application.event_date
            ),
            at=now(),
        )
        await repository.save_application(conn, approved)
        await repository.insert_allowance(conn, allowance)
        await uow.record(event)
    return approved, allowance


async def handle_pay(uow: UnitOfWork, command: PayAllowance) -> Allowance:
    async with uow:
        current = await repository.allowances.for_change(uow.conn, command.allowance_id)
        paid, event = current.pay(command.paid_on, command.payment_reference, today())
        if event is None:  # the same payment reported again
            return current
        await repository.save_allowance(uow.conn, paid)
        await uow.record(event)
    return paid


async def handle_grant_for_settlement(
    uow: UnitOfWork, command: GrantForSettlement
) -> Allowance | None:
    """The allowance a delivery settlement grants; None when the confinement (or the same
    settlement, delivered again) was already granted, or the settlement was reversed before it
    was read. Raises ``EnrollmentNotYetKnown`` (to be retried) while the person's employee
    enrollment on the day is not known yet."""
    c = command
    try:
        async with uow:
            conn = uow.conn
            await lock_person(conn, c.person_id)
            reversed_for = await repository.reversal_reason(conn, c.settlement_id)
            if reversed_for is not None:
                log.info(
                    "settlement reversed before it was read; nothing to grant",
                    extra={"settlement_id": c.settlement_id, "reason_code": reversed_for},
                )
                return None
            enrollment = await active_enrollment(conn, c.person_id, EMPLOYEE, c.event_date)
            if enrollment is None:
                raise domain.EnrollmentNotYetKnown(
                    f"no employee enrollment known on {c.event_date.isoformat()}"
                )
            employer_id = await repository.employer_of(conn, enrollment.enrollment_id)
            if employer_id is None:
                raise domain.NoEmployerWage(
                    f"enrollment {enrollment.enrollment_id} has no employer wage"
                )
            allowance, event = Allowance.grant_for_settlement(
                c,
                employer_id=employer_id,
                monthly_wage_fen=await monthly_wage(conn, employer_id, c.event_date),
                granted=await repository.same_confinement(conn, c.person_id, c.event_date),
                at=now(),
            )
            if not await repository.insert_allowance(conn, allowance):
                log.info("settlement already granted", extra={"settlement_id": c.settlement_id})
                return None
            await uow.record(event)
    except domain.AlreadyGranted as granted:
        log.info(
            "allowance already granted for this confinement",
            extra={"settlement_id": c.settlement_id, **granted.extensions},
        )
        return None
    return allowance


async def handle_settlement_reversed(
    uow: UnitOfWork, command: UndoReversedSettlement
) -> Allowance | None:
    """冲正: the allowance the settlement granted, cancelled (not yet paid) or left paid with a
    recovery item for the agency of the mother's pooling region on the day of the birth; None
    when it granted none (yet: the reversal is kept, and the settlement read later grants
    nothing). A reversal read again changes nothing."""
    c = command
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        await repository.insert_reversal(conn, c)
        current = await repository.allowance_of_settlement(conn, c.settlement_id)
        if current is None:
            return None
        enrollment = await active_enrollment(conn, c.person_id, EMPLOYEE, current.event_date)
        if enrollment is None:  # it granted the allowance: seen, and never deleted
            raise domain.EnrollmentNotYetKnown(
                f"no employee enrollment known on {current.event_date.isoformat()}"
            )
        changed, recovery, event = current.settlement_reversed(
            c.reason_code, region=enrollment.pooling_region, at=now()
        )
        if event is None:  # reversed before
            return changed
        await repository.save_allowance(conn, changed)
        if recovery is not None:
            await repository.insert_recovery(conn, recovery)
        await uow.record(event)
    return changed
