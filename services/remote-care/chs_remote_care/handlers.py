"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox. Whatever concerns a person takes the person's lock first."""
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg
import uuid6

from chs_events import outbox
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled, RemoteCareRevoked
from chs_events.problems import Conflict, NotFound

from chs_remote_care import domain, repository
from chs_remote_care.commands import FileRemoteCare, RevokeFiling
from chs_remote_care.domain import Coverage, Filing

SOURCE = "/chs/remote-care"
CHINA = ZoneInfo("Asia/Shanghai")


class FilingNotFound(NotFound):
    pass


def now() -> datetime:
    return datetime.now(CHINA)


def today() -> date:
    return now().date()


def new_id() -> str:
    return str(uuid6.uuid7())


@asynccontextmanager
async def transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    try:
        async with conn.transaction():
            yield
    except asyncpg.UniqueViolationError:
        # Only a concurrent request can get here: the rules checked under the person lock.
        raise Conflict("changed by a concurrent request; retry") from None


async def publish(conn: asyncpg.Connection, correlation_id: str | None, *events: Event) -> None:
    for event in events:
        await outbox.record(conn, Envelope(event, source=SOURCE, correlation_id=correlation_id))


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
    async with transaction(conn):
        await repository.lock_person(conn, command.person_id)
        terms = domain.check_filing(
            filing_type=command.filing_type, category=command.category,
            destination=command.destination_region,
            enrollments=await repository.enrollments_of(conn, command.person_id),
            filings=await repository.filings_of(conn, command.person_id), today=day,
            admission_date=command.admission_date, discharge_date=command.discharge_date)
        filing = Filing(new_id(), command.person_id, command.filing_type, command.category,
                        command.destination_region, terms.enrollment.pooling_region,
                        terms.enrollment.insutype, terms.enrollment.enrollment_id,
                        terms.valid_from, terms.valid_until, day, terms.admission_date,
                        command.discharge_date)
        await repository.insert_filing(conn, filing)
        await publish(conn, command.correlation_id, filed(filing))
    return filing


async def handle_revoke(conn: asyncpg.Connection, command: RevokeFiling,
                        on: date | None = None) -> Filing:
    """Revoke an active filing from today on → RemoteCareRevoked."""
    day = on or today()
    async with transaction(conn):
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
        await publish(conn, command.correlation_id, revoked(filing))
    return filing


async def expire_due(pool: asyncpg.Pool, day: date, *, batch_size: int = 500) -> int:
    """Expire every temporary filing whose validity ended before ``day`` → RemoteCareExpired
    each; batch by batch, each in one transaction. Safe with several instances running: a
    batch locks its rows and skips the rows another instance holds."""
    total = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            batch = await repository.claim_expiring(conn, day, batch_size)
            for filing in batch:
                await publish(conn, None, expired(filing))
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
                           enrollments=await repository.enrollments_of(conn, person_id),
                           filings=await repository.filings_of(conn, person_id))
