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
    RevokeForReversedSettlement,
    SubmitApplication,
)
from chs_chronic.model import Application, Certification
from chs_events.clock import now, today
from chs_events.locks import lock_person
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import CHINA

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
    same settlement delivered again) grants nothing, but the certification now rests on this
    settlement too; a settlement already reversed grants nothing."""
    at = now()
    granted = []
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        if await repository.reversed_among(conn, [command.settlement_id]):
            log.info(
                "settlement reversed before it was read; nothing to grant",
                extra={"settlement_id": command.settlement_id},
            )
            return []
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
            resting: Certification | None = certification
            if await repository.insert_certification(conn, certification):
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
                resting = await repository.active_certification(
                    conn, command.person_id, grant.condition.code
                )
            if resting is not None:
                await repository.rest_on(conn, resting.certification_id, command.settlement_id)
    return granted


async def handle_settlement_reversed(
    uow: UnitOfWork, command: RevokeForReversedSettlement
) -> list[Certification]:
    """冲正: the certifications without application that rested on the reversed settlement and
    on no other still standing are revoked (``settlement_reversed``, ended on the reversal's
    day); the others stay. The reversal is kept, so that the settlement, if read later, grants
    nothing; read again, it changes nothing."""
    revoked = []
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        await repository.insert_reversed_settlement(
            conn, command.settlement_id, command.person_id, command.reversed_at
        )
        on = command.reversed_at.astimezone(CHINA).date()
        for current in await repository.resting_on(conn, command.settlement_id):
            supporting = await repository.settlements_of(conn, current.certification_id)
            reversed_ = await repository.reversed_among(conn, supporting)
            change = current.settlement_reversed(supporting=supporting, reversed_=reversed_, on=on)
            if change is None:
                continue
            ended, event = change
            await repository.save_certification(conn, ended)
            await uow.record(event)
            revoked.append(ended)
    return revoked


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
