"""Command handlers: each runs in ONE unit of work that changes the state and records its
events in the outbox. Whatever concerns a person takes the person's lock first."""

from datetime import date

import asyncpg
import uuid6

from chs_events.clock import today
from chs_events.errors import NotFound
from chs_events.locks import lock_person
from chs_events.lookups import Lookup
from chs_events.read_models import enrollments
from chs_events.settings import ExpirySettings
from chs_events.unit_of_work import UnitOfWork
from chs_remote_care import domain, repository
from chs_remote_care.commands import FileRemoteCare, RevokeFiling
from chs_remote_care.domain import Coverage
from chs_remote_care.model import Filing


class FilingNotFound(NotFound):
    pass


# By id, for a route (or 404) and a handler (under the person's lock).
FILINGS = Lookup("filing", repository.get_filing, FilingNotFound)


async def handle_file(uow: UnitOfWork, command: FileRemoteCare, on: date | None = None) -> Filing:
    """File and approve at once (秒备案) → RemoteCareFiled; or refuse with the rule that failed."""
    day = on or today()
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        terms = domain.check_filing(
            filing_type=command.filing_type,
            category=command.category,
            destination=command.destination_region,
            enrollments=await enrollments.enrollments_of(conn, command.person_id),
            filings=await repository.filings_of(conn, command.person_id),
            today=day,
            admission_date=command.admission_date,
            discharge_date=command.discharge_date,
            settled=await repository.settled_stays_of(conn, command.person_id),
        )
        filing, event = Filing.file(
            str(uuid6.uuid7()),
            person_id=command.person_id,
            filing_type=command.filing_type,
            category=command.category,
            destination_region=command.destination_region,
            terms=terms,
            filed_on=day,
            discharge_date=command.discharge_date,
        )
        await repository.insert_filing(conn, filing)
        await uow.record(event)
    return filing


async def handle_revoke(uow: UnitOfWork, command: RevokeFiling, on: date | None = None) -> Filing:
    """Revoke an active filing from today on → RemoteCareRevoked."""
    async with uow:
        filing = await FILINGS.for_change(uow.conn, command.filing_id)
        filing, event = filing.revoke(on or today(), command.reason)
        await repository.save_filing(uow.conn, filing)
        await uow.record(event)
    return filing


async def expire_due(pool: asyncpg.Pool, day: date, *, source: str, batch_size: int = 500) -> int:
    """Expire every temporary filing whose validity ended before ``day`` → RemoteCareExpired
    each; batch by batch, each in one unit of work. Safe with several instances running: a
    batch locks its rows and skips the rows another instance holds."""
    total = 0
    while True:
        async with pool.acquire() as conn, UnitOfWork(conn, source=source) as uow:
            batch = await repository.lock_expiring(conn, day, batch_size)
            for due in batch:
                filing, event = due.expire(day)
                await repository.save_filing(conn, filing)
                await uow.record(event)
        total += len(batch)
        if len(batch) < batch_size:
            return total


async def expire_job(pool: asyncpg.Pool, settings: ExpirySettings) -> int:
    """The ``expire`` worker's job (``chs_events.scheduled``): today's expiries."""
    return await expire_due(
        pool, today(), source=settings.ce_source, batch_size=settings.expiry_batch_size
    )


async def filings_of(conn: asyncpg.Connection, person_id: str) -> list[Filing]:
    return await repository.filings_of(conn, person_id)


async def coverage(
    conn: asyncpg.Connection, person_id: str, place: str, day: date, emergency: bool = False
) -> Coverage:
    return domain.coverage(
        place=place,
        day=day,
        emergency=emergency,
        enrollments=await enrollments.enrollments_of(conn, person_id),
        filings=await repository.filings_of(conn, person_id),
    )
