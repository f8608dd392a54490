"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox. Whatever concerns a person takes the person's lock first."""
from dataclasses import replace
from datetime import date

import asyncpg
import uuid6

from chs_events.clock import today
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled, RemoteCareRevoked
from chs_events.errors import NotFound
from chs_events.read_models import enrollments
from chs_events.unit_of_work import UnitOfWork

from chs_remote_care import domain, repository
from chs_remote_care.commands import FileRemoteCare, RevokeFiling
from chs_remote_care.domain import Coverage, Filing

SOURCE = "/chs/remote-care"


class FilingNotFound(NotFound):
    pass


def _common(filing: Filing) -> dict:
    return dict(person_id=filing.person_id, filing_id=filing.filing_id,
                filing_type=filing.filing_type, category=filing.category,
                destination_region=filing.destination_region, valid_from=filing.valid_from,
                valid_until=filing.valid_until)


def filed(filing: Filing) -> RemoteCareFiled:
    return RemoteCareFiled(**_common(filing), home_region=filing.home_region,
                           insutype=filing.insutype, enrollment_id=filing.enrollment_id,
                           filed_on=filing.filed_on, admission_date=filing.admission_date,
                           back_dated=filing.back_dated)


def revoked(filing: Filing) -> RemoteCareRevoked:
    assert filing.revoked_on is not None
    return RemoteCareRevoked(**_common(filing), revoked_on=filing.revoked_on,
                             reason=filing.revoke_reason)


def expired(filing: Filing) -> RemoteCareExpired:
    return RemoteCareExpired(**_common(filing))


async def handle_file(conn: asyncpg.Connection, command: FileRemoteCare,
                      on: date | None = None) -> Filing:
    """File and approve at once (秒备案) → RemoteCareFiled; or refuse with the rule that failed."""
    day = on or today()
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        await repository.lock_person(conn, command.person_id)
        terms = domain.check_filing(
            filing_type=command.filing_type, category=command.category,
            destination=command.destination_region,
            enrollments=await enrollments.enrollments_of(conn, command.person_id),
            filings=await repository.filings_of(conn, command.person_id), today=day,
            admission_date=command.admission_date, discharge_date=command.discharge_date)
        filing = Filing(str(uuid6.uuid7()), command.person_id, command.filing_type,
                        command.category, command.destination_region,
                        terms.enrollment.pooling_region, terms.enrollment.insutype,
                        terms.enrollment.enrollment_id, terms.valid_from, terms.valid_until, day,
                        terms.admission_date, command.discharge_date)
        await repository.insert_filing(conn, filing)
        await uow.record(filed(filing))
    return filing


async def handle_revoke(conn: asyncpg.Connection, command: RevokeFiling,
                        on: date | None = None) -> Filing:
    """Revoke an active filing from today on → RemoteCareRevoked."""
    day = on or today()
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        found = await repository.get_filing(conn, command.filing_id)
        if found is None:
            raise FilingNotFound(f"no filing {command.filing_id}")
        await repository.lock_person(conn, found.person_id)
        filing = await repository.get_filing(conn, command.filing_id, for_update=True)
        assert filing is not None
        domain.check_revoke(filing)
        filing = replace(filing, status="revoked", revoked_on=day,
                         revoke_reason=command.reason)
        await repository.revoke_filing(conn, filing.filing_id, day, command.reason)
        await uow.record(revoked(filing))
    return filing


async def expire_due(pool: asyncpg.Pool, day: date, *, batch_size: int = 500) -> int:
    """Expire every temporary filing whose validity ended before ``day`` → RemoteCareExpired
    each; batch by batch, each in one transaction. Safe with several instances running: a
    batch locks its rows and skips the rows another instance holds."""
    total = 0
    while True:
        async with pool.acquire() as conn, UnitOfWork(conn, source=SOURCE) as uow:
            batch = await repository.claim_expiring(conn, day, batch_size)
            await uow.record(*(expired(filing) for filing in batch))
        total += len(batch)
        if len(batch) < batch_size:
            return total


async def filing(conn: asyncpg.Connection, filing_id: str) -> Filing:
    found = await repository.get_filing(conn, filing_id)
    if found is None:
        raise FilingNotFound(f"no filing {filing_id}")
    return found


async def filings_of(conn: asyncpg.Connection, person_id: str) -> list[Filing]:
    return await repository.filings_of(conn, person_id)


async def coverage(conn: asyncpg.Connection, person_id: str, place: str, day: date,
                   emergency: bool = False) -> Coverage:
    return domain.coverage(place=place, day=day, emergency=emergency,
                           enrollments=await enrollments.enrollments_of(conn, person_id),
                           filings=await repository.filings_of(conn, person_id))
