"""Command handlers: each runs in ONE unit of work that loads the state under the person's lock,
asks the aggregate (``model``) for the change, saves what it returns and records its events.
The settlement consumer is in ``consumers``; the expiry job is ``expiry``."""

import logging
from dataclasses import dataclass

import asyncpg

from chs_chronic import domain, repository
from chs_chronic.catalog import Catalog
from chs_chronic.commands import (
    CertifyFromSettlement,
    DecideApplication,
    ExpireCertification,
    RevokeCertification,
    SubmitApplication,
)
from chs_chronic.model import Application, Certification
from chs_events.clock import now, today
from chs_events.locks import lock_person
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    certification: Certification | None = None


async def _insert(conn: asyncpg.Connection, certification: Certification) -> None:
    """Refused when a concurrent change certified the condition first."""
    if not await repository.insert_certification(conn, certification):
        raise domain.AlreadyCertified(
            f"{certification.condition_name} ({certification.condition_code}) is already "
            "certified for this person",
            condition_code=certification.condition_code,
        )


async def handle_submit(
    uow: UnitOfWork, command: SubmitApplication, catalog: Catalog
) -> ApplicationView:
    """Decide an application in the request: certified, rejected, or queued for review."""
    at = now()
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        active = await repository.active_condition_codes(conn, command.person_id)
        application, certification, events = Application.submit(command, catalog, active, at)
        await repository.insert_application(conn, application)
        if certification is not None:
            await _insert(conn, certification)
        await uow.record(*events)
    return ApplicationView(application, certification)


async def handle_decide(
    uow: UnitOfWork, command: DecideApplication, catalog: Catalog
) -> ApplicationView:
    """A reviewer certifies or refuses a queued application."""
    at = now()
    async with uow:
        conn = uow.conn
        application = await repository.applications.for_change(conn, command.application_id)
        active = await repository.active_condition_codes(conn, application.person_id)
        decided, certification, event = application.decide(command, catalog, active, at)
        await repository.save_application(conn, decided)
        if certification is not None:
            await _insert(conn, certification)
        await uow.record(event)
    return ApplicationView(decided, certification)


async def handle_revoke(uow: UnitOfWork, command: RevokeCertification) -> Certification:
    async with uow:
        current = await repository.certifications.for_change(uow.conn, command.certification_id)
        revoked, event = current.revoke(command.reason_code, today())
        await repository.save_certification(uow.conn, revoked)
        await uow.record(event)
    return revoked


async def handle_certify_from_settlement(
    uow: UnitOfWork, command: CertifyFromSettlement
) -> list[Certification]:
    """The certifications a settlement grants; a condition already actively certified (or the
    same settlement delivered again) grants nothing."""
    at = now()
    granted = []
    async with uow:
        await lock_person(uow.conn, command.person_id)
        for grant in command.grants:
            certification, event = Certification.grant(
                grant.condition,
                command,
                source="auto",
                diagnoses=grant.diagnoses,
                valid_from=grant.valid_from,
                at=at,
                settlement_id=command.settlement_id,
            )
            if await repository.insert_certification(uow.conn, certification):
                await uow.record(event)
                granted.append(certification)
            else:
                log.info(
                    "already certified; nothing to grant",
                    extra={
                        "condition": grant.condition.code,
                        "settlement_id": command.settlement_id,
                    },
                )
    return granted


async def handle_expire(uow: UnitOfWork, command: ExpireCertification) -> Certification | None:
    """The certification ended, or None when another instance has it (or already ended it)."""
    async with uow:
        await lock_person(uow.conn, command.person_id)
        due = await repository.lock_if_due(uow.conn, command.certification_id, command.today)
        if due is None:
            return None
        expired, event = due.expire(command.today)
        await repository.save_certification(uow.conn, expired)
        await uow.record(event)
    return expired
