"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox, under the person's lock. The settlement consumer is in ``consumers``; the expiry
sweep is ``expire_due``."""
import logging
from dataclasses import dataclass, replace
from datetime import date

import asyncpg
import uuid6

from chs_events.clock import now, today
from chs_events.events.base import Event
from chs_events.events.chronic import (
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
)
from chs_events.errors import Conflict
from chs_events.unit_of_work import UnitOfWork

from chs_chronic import domain, repository
from chs_chronic.catalog import Catalog, Condition
from chs_chronic.commands import (
    DecideApplication,
    RevokeCertification,
    SubmitApplication,
)
from chs_chronic.model import Application, Certification, Source

log = logging.getLogger(__name__)

SOURCE = "/chs/chronic"


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    certification: Certification | None = None


def new_certification(condition: Condition, *, person_id: str, source: Source,
                      diagnoses: tuple[str, ...] | list[str], institution_code: str,
                      institution_name: str, valid_from: date, application_id: str | None = None,
                      settlement_id: str | None = None) -> Certification:
    first, last = domain.validity(condition, valid_from)
    return Certification(
        str(uuid6.uuid7()), person_id, condition.code, condition.name, source, application_id,
        settlement_id, tuple(diagnoses), institution_code, institution_name, first, last,
        condition.annual_cap_fen, condition.pay_ratio_permille, "active", now())


def certified(certification: Certification) -> ChronicCertified:
    c = certification
    return ChronicCertified(
        person_id=c.person_id, certification_id=c.certification_id,
        condition_code=c.condition_code, condition_name=c.condition_name, source=c.source,
        application_id=c.application_id, settlement_id=c.settlement_id,
        diagnosis_codes=list(c.diagnosis_codes), institution_code=c.institution_code,
        institution_name=c.institution_name, valid_from=c.valid_from,
        valid_until=c.valid_until, annual_cap_fen=c.annual_cap_fen,
        pay_ratio_permille=c.pay_ratio_permille)


def rejected(application: Application, condition_name: str | None,
             decided_by: str) -> ChronicRejected:
    a = application
    return ChronicRejected(person_id=a.person_id, application_id=a.application_id,
                           condition_code=a.condition_code, condition_name=condition_name,
                           rule=a.rule or "", reason=a.reason or "", decided_by=decided_by)


def _certification_for(application: Application, condition: Condition,
                       source: Source) -> Certification:
    return new_certification(
        condition, person_id=application.person_id, source=source,
        diagnoses=[d for d in application.diagnosis_codes if condition.matches(d)],
        institution_code=application.institution_code,
        institution_name=application.institution_name,
        valid_from=application.discharge_date, application_id=application.application_id)


async def _insert(conn: asyncpg.Connection, certification: Certification) -> None:
    if not await repository.insert_certification(conn, certification):
        raise domain.AlreadyCertified(
            f"{certification.condition_name} ({certification.condition_code}) is already "
            "certified for this person", condition_code=certification.condition_code)


async def handle_submit(conn: asyncpg.Connection, command: SubmitApplication, catalog: Catalog,
                        ) -> ApplicationView:
    """Decide an application in the request: certified, rejected, or queued for review."""
    at = now()
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        await repository.lock_person(conn, command.person_id)
        active = await repository.active_condition_codes(conn, command.person_id)
        decision = domain.decide_application(command, catalog, at.date(), active)
        condition = decision.condition
        application = Application(
            str(uuid6.uuid7()), command.person_id, command.institution_code,
            command.institution_name, command.doctor_id, command.doctor_name,
            command.discharge_date,
            domain.normalize_diagnoses(command.diagnosis_codes), command.evidence,
            command.condition_code, condition.code if condition else None, decision.status,
            decision.rule, decision.reason, at,
            decided_at=None if decision.outcome == "review" else at,
            decided_by=None if decision.outcome == "review" else "rules")
        certification = None
        if decision.outcome == "certify":
            certification = _certification_for(application, condition, "application")
            application = replace(application, certification_id=certification.certification_id)
        await repository.insert_application(conn, application)
        events: list[Event] = [ChronicApplied(
            person_id=command.person_id, application_id=application.application_id,
            institution_code=command.institution_code,
            institution_name=command.institution_name, discharge_date=command.discharge_date,
            diagnosis_codes=list(application.diagnosis_codes),
            condition_code=application.condition_code,
            condition_name=condition.name if condition else None,
            status="pending_review" if decision.outcome == "review" else "decided",
            review_reason=decision.reason if decision.outcome == "review" else None)]
        if certification is not None:
            await _insert(conn, certification)
            events.append(certified(certification))
        elif decision.outcome == "reject":
            events.append(rejected(application, condition.name if condition else None, "rules"))
        await uow.record(*events)
    return ApplicationView(application, certification)


async def handle_decide(conn: asyncpg.Connection, command: DecideApplication, catalog: Catalog,
                        ) -> ApplicationView:
    """A reviewer certifies or refuses a queued application."""
    at = now()
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        found = await repository.get_application(conn, command.application_id)
        if found is None:
            raise domain.ApplicationNotFound(f"no application {command.application_id}")
        await repository.lock_person(conn, found.person_id)
        application = await repository.get_application(conn, command.application_id,
                                                       for_update=True)
        active = await repository.active_condition_codes(conn, application.person_id)
        decision = domain.decide_review(application, command, catalog, active)
        condition = decision.condition
        application = replace(
            application, status=decision.status, rule=decision.rule, reason=decision.reason,
            condition_code=condition.code if condition else application.condition_code,
            decided_at=at, decided_by=command.reviewer)
        certification = None
        if decision.outcome == "certify":
            certification = _certification_for(application, condition, "review")
            application = replace(application, certification_id=certification.certification_id)
            event: Event = certified(certification)
        else:
            event = rejected(application, condition.name if condition else None, "review")
        await repository.record_decision(conn, application)
        if certification is not None:
            await _insert(conn, certification)
        await uow.record(event)
    return ApplicationView(application, certification)


async def handle_revoke(conn: asyncpg.Connection, command: RevokeCertification) -> Certification:
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        found = await repository.get_certification(conn, command.certification_id)
        if found is None:
            raise domain.CertificationNotFound(f"no certification {command.certification_id}")
        await repository.lock_person(conn, found.person_id)
        current = await repository.get_certification(conn, command.certification_id,
                                                     for_update=True)
        if current.status != "active":
            raise Conflict(f"certification {current.certification_id} is already "
                           f"{current.status}", status_now=current.status)
        ended = await repository.end_certification(conn, current.certification_id, "revoked",
                                                   today(), command.reason)
        await uow.record(revoked(ended, "revoked", command.reason))
    return ended


def revoked(certification: Certification, reason: str, detail: str | None) -> ChronicRevoked:
    c = certification
    return ChronicRevoked(person_id=c.person_id, certification_id=c.certification_id,
                          condition_code=c.condition_code, condition_name=c.condition_name,
                          reason=reason, ended_on=c.ended_on, detail=detail)


async def expire_due(pool: asyncpg.Pool, day: date, limit: int) -> int:
    """End the certifications whose last valid day is before ``day``; safe with several
    instances (each certification is taken ``for update skip locked`` under the person's lock).
    Returns how many this call ended."""
    async with pool.acquire() as conn:
        candidates = await repository.due_for_expiry(conn, day, limit)
        ended = 0
        for certification_id, person_id in candidates:
            async with UnitOfWork(conn, source=SOURCE) as uow:
                await repository.lock_person(conn, person_id)
                due = await repository.lock_if_due(conn, certification_id, day)
                if due is None:
                    continue
                expired = await repository.end_certification(
                    conn, certification_id, "expired", due.valid_until, "validity ended")
                await uow.record(revoked(expired, "expired", None))
                ended += 1
    if ended:
        log.info("certifications expired", extra={"count": ended, "day": day.isoformat()})
    return ended
