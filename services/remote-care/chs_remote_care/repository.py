"""The remote-care service's queries (asyncpg), mapping rows to ``model`` state. The person's
enrollments come from the shared read model, ``chs_events.read_models.enrollments``; the
person's lock is ``chs_events.locks.lock_person`` (the person's row lives in enrollment's
database)."""

from datetime import date

import asyncpg

from chs_remote_care.model import Filing

_FILING = """filing_id, person_id, filing_type, category, destination_region, home_region,
              insutype, enrollment_id, valid_from, valid_until, filed_on, admission_date,
              discharge_date, status, revoked_on, revoke_reason"""


def _filing(row: asyncpg.Record) -> Filing:
    return Filing(**row)


async def filings_of(conn: asyncpg.Connection, person_id: str) -> list[Filing]:
    rows = await conn.fetch(
        f"select {_FILING} from filings where person_id = $1 order by filed_at, filing_id",
        person_id,
    )
    return [_filing(row) for row in rows]


async def get_filing(
    conn: asyncpg.Connection, filing_id: str, *, for_update: bool = False
) -> Filing | None:
    row = await conn.fetchrow(
        f"select {_FILING} from filings where filing_id = $1"
        + (" for update" if for_update else ""),
        filing_id,
    )
    return _filing(row) if row else None


async def insert_filing(conn: asyncpg.Connection, filing: Filing) -> None:
    await conn.execute(
        f"""insert into filings ({_FILING})
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)""",
        filing.filing_id,
        filing.person_id,
        filing.filing_type,
        filing.category,
        filing.destination_region,
        filing.home_region,
        filing.insutype,
        filing.enrollment_id,
        filing.valid_from,
        filing.valid_until,
        filing.filed_on,
        filing.admission_date,
        filing.discharge_date,
        filing.status,
        filing.revoked_on,
        filing.revoke_reason,
    )


async def save_filing(conn: asyncpg.Connection, filing: Filing) -> None:
    """Store what may change of a filing (its status, revocation); ``ended_at`` is when it
    left ``active``."""
    await conn.execute(
        """update filings
           set status = $2, revoked_on = $3, revoke_reason = $4,
               ended_at = case when $2 = 'active' then null else coalesce(ended_at, now()) end
           where filing_id = $1""",
        filing.filing_id,
        filing.status,
        filing.revoked_on,
        filing.revoke_reason,
    )


async def lock_expiring(conn: asyncpg.Connection, today: date, limit: int) -> list[Filing]:
    """Lock up to ``limit`` active temporary filings whose validity ended before ``today``;
    rows another instance holds are skipped (``for update skip locked``)."""
    rows = await conn.fetch(
        f"""select {_FILING} from filings
            where filing_type = 'temporary' and status = 'active' and valid_until < $1
            order by valid_until, filing_id limit $2 for update skip locked""",
        today,
        limit,
    )
    return [_filing(row) for row in rows]
