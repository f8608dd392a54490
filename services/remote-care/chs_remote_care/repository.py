"""The remote-care service's queries (asyncpg), mapping rows to ``model`` state. The person's
enrollments come from the shared read model, ``chs_events.read_models.enrollments``; the
person's lock is ``chs_events.locks.lock_person`` (the person's row lives in enrollment's
database). The settled stays (``settled_stays``, ``reversed_settlements``) are what the group
``remote-care-settlements`` keeps of ``chs.reimbursement.events``."""

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from chs_events.rows import Table
from chs_remote_care.domain import SettledStay
from chs_remote_care.model import Filing

FILINGS = Table("filings", Filing, key="filing_id")
SETTLED_STAYS = Table("settled_stays", SettledStay, key="settlement_id")


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


# --- the settled stays ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementReversal:
    """A row of ``reversed_settlements``: a settlement reversed (冲正), its stay no longer
    settled."""

    settlement_id: str
    person_id: str
    reversed_at: datetime


REVERSALS = Table("reversed_settlements", SettlementReversal, key="settlement_id")


async def settled_stays_of(conn: asyncpg.Connection, person_id: str) -> list[SettledStay]:
    """The person's stays whose settlement was read and not reversed."""
    return await SETTLED_STAYS.fetch(
        conn,
        """person_id = $1 and settlement_id not in (select settlement_id from reversed_settlements)
           order by admission_date, settlement_id""",
        person_id,
    )


async def insert_settled_stay(conn: asyncpg.Connection, stay: SettledStay) -> bool:
    """False when the settlement was read before (published again, redelivered)."""
    return await SETTLED_STAYS.insert(conn, stay, on_conflict_do_nothing=True)


async def insert_reversal(conn: asyncpg.Connection, reversal: SettlementReversal) -> bool:
    """False when the reversal was read before."""
    return await REVERSALS.insert(conn, reversal, on_conflict_do_nothing=True)
