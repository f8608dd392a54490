"""The remote-care service's queries (asyncpg), mapping rows to ``model`` state. The person's
enrollments come from the shared read model, ``chs_events.read_models.enrollments``; the
person's lock is ``chs_events.locks.lock_person`` (the person's row lives in enrollment's
database)."""

from datetime import date

import asyncpg

from chs_events.rows import Table
from chs_remote_care.model import Filing

FILINGS = Table("filings", Filing, key="filing_id")


async def filings_of(conn: asyncpg.Connection, person_id: str) -> list[Filing]:
    return await FILINGS.fetch(conn, "person_id = $1 order by filed_at, filing_id", person_id)


# The plain read and insert are the table's own: get(conn, filing_id, *, for_update=False).
get_filing = FILINGS.get
insert_filing = FILINGS.insert


async def save_filing(conn: asyncpg.Connection, filing: Filing) -> None:
    """Store what may change of a filing (its status, revocation); ``ended_at`` is when it
    left ``active``."""
    await FILINGS.update(
        conn,
        filing,
        ("status", "revoked_on", "revoke_reason"),
        also="ended_at = case when $2 = 'active' then null else coalesce(ended_at, now()) end",
    )


async def lock_expiring(conn: asyncpg.Connection, today: date, limit: int) -> list[Filing]:
    """Lock up to ``limit`` active temporary filings whose validity ended before ``today``;
    rows another instance holds are skipped (``for update skip locked``)."""
    return await FILINGS.fetch(
        conn,
        """filing_type = 'temporary' and status = 'active' and valid_until < $1
           order by valid_until, filing_id limit $2 for update skip locked""",
        today,
        limit,
    )
