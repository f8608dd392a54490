"""The maternity service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person takes the person's advisory lock first
(``chs_events.locks``), so one person's changes serialize across instances and their outbox
rows are in commit order.
"""

from datetime import date, timedelta

import asyncpg

from chs_events import regions
from chs_events.lookups import Lookup
from chs_events.rows import Table
from chs_maternity import domain
from chs_maternity.commands import UndoReversedSettlement
from chs_maternity.model import Allowance, Application, Recovery

# One allowance per confinement: two granted within this many days are the same one (a second
# delivery settlement, or an application beside a settlement that already granted it).
SAME_CONFINEMENT_DAYS = 180

APPLICATIONS = Table("applications", Application, key="application_id")
ALLOWANCES = Table("allowances", Allowance, key="allowance_id")
RECOVERIES = Table("recoveries", Recovery, key="recovery_id")


# --- the staff's contribution bases (the wage source) ------------------------------------------


async def insert_staff_base(
    conn: asyncpg.Connection,
    enrollment_id: str,
    person_id: str,
    employer_id: str,
    contribution_base_fen: int,
) -> None:
    await conn.execute(
        """insert into staff_bases (enrollment_id, person_id, employer_id, contribution_base_fen)
           values ($1, $2, $3, $4) on conflict (enrollment_id) do nothing""",
        enrollment_id,
        person_id,
        employer_id,
        contribution_base_fen,
    )


async def employer_of(conn: asyncpg.Connection, enrollment_id: str) -> str | None:
    return await conn.fetchval(
        "select employer_id from staff_bases where enrollment_id = $1", enrollment_id
    )


async def staff_bases_on(conn: asyncpg.Connection, employer_id: str, day: date) -> list[int]:
    """The contribution bases of the employer's staff whose enrollment is active on ``day``."""
    rows = await conn.fetch(
        """select s.contribution_base_fen from staff_bases s
           join enrollment_view e using (enrollment_id)
           where s.employer_id = $1 and e.start_date <= $2
             and (e.end_date is null or e.end_date >= $2)""",
        employer_id,
        day,
    )
    return [row["contribution_base_fen"] for row in rows]


# --- applications --------------------------------------------------------------------------------


# The plain reads and inserts are the tables' own: get(conn, id, *, for_update=False).
insert_application = APPLICATIONS.insert
get_application = APPLICATIONS.get
applications = Lookup("application", get_application, domain.ApplicationNotFound)


async def save_application(conn: asyncpg.Connection, a: Application) -> None:
    """The application's decision as the aggregate holds it."""
    await APPLICATIONS.update(conn, a, ("status", "decided_at", "decided_by", "allowance_id"))


async def applications_of(conn: asyncpg.Connection, person_id: str) -> list[Application]:
    return await APPLICATIONS.fetch(
        conn, "person_id = $1 order by submitted_at, application_id", person_id
    )


# --- allowances ----------------------------------------------------------------------------------


async def same_confinement(
    conn: asyncpg.Connection, person_id: str, event_date: date
) -> Allowance | None:
    """An allowance of the person whose event is within ``SAME_CONFINEMENT_DAYS``; one whose
    settlement was reversed (cancelled, or paid and recovered) grants the confinement no more."""
    window = timedelta(days=SAME_CONFINEMENT_DAYS)
    return await ALLOWANCES.fetch_one(
        conn,
        """person_id = $1 and event_date > $2 and event_date < $3
           and settlement_reversed_at is null order by event_date limit 1""",
        person_id,
        event_date - window,
        event_date + window,
    )


async def insert_allowance(conn: asyncpg.Connection, a: Allowance) -> bool:
    """False when the settlement (or application) already granted one."""
    return await ALLOWANCES.insert(conn, a, on_conflict_do_nothing=True)


get_allowance = ALLOWANCES.get
allowances = Lookup("allowance", get_allowance, domain.AllowanceNotFound)


async def allowances_of(conn: asyncpg.Connection, person_id: str) -> list[Allowance]:
    return await ALLOWANCES.fetch(
        conn, "person_id = $1 order by event_date, allowance_id", person_id
    )


async def save_allowance(conn: asyncpg.Connection, a: Allowance) -> None:
    """The allowance's payment (or its settlement's reversal) as the aggregate holds it."""
    await ALLOWANCES.update(
        conn, a, ("status", "paid_on", "payment_reference", "settlement_reversed_at")
    )


async def allowance_of_settlement(conn: asyncpg.Connection, settlement_id: str) -> Allowance | None:
    """The allowance the settlement granted, locked."""
    return await ALLOWANCES.fetch_one(conn, "settlement_id = $1", settlement_id, for_update=True)


# --- reversed settlements (冲正) and recovery items (追回) ----------------------------------------


async def insert_reversal(conn: asyncpg.Connection, reversal: UndoReversedSettlement) -> None:
    await conn.execute(
        """insert into reversed_settlements (settlement_id, person_id, reason_code, reversed_at)
           values ($1, $2, $3, $4) on conflict (settlement_id) do nothing""",
        reversal.settlement_id,
        reversal.person_id,
        reversal.reason_code,
        reversal.reversed_at,
    )


async def reversal_reason(conn: asyncpg.Connection, settlement_id: str) -> str | None:
    """Why the settlement was reversed; None when it was not (or not yet read to be)."""
    return await conn.fetchval(
        "select reason_code from reversed_settlements where settlement_id = $1", settlement_id
    )


async def insert_recovery(conn: asyncpg.Connection, recovery: Recovery) -> None:
    """One item per allowance: a second is a unique violation (a conflict)."""
    await RECOVERIES.insert(conn, recovery)


async def open_recoveries(conn: asyncpg.Connection, area: str, limit: int) -> list[Recovery]:
    """The open recovery items of the regions ``area`` covers (``chs_events.regions.covers``: a
    province's every part, a city's districts and counties, a county itself), oldest first."""
    level = regions.region(area).level
    prefix = {"province": area[:2], "city": area[:4]}.get(level)
    within = "region like $2 || '%'" if prefix else "region = $2"
    return await RECOVERIES.fetch(
        conn,
        f"status = 'open' and {within} order by raised_at, recovery_id limit $1",
        limit,
        prefix or area,
    )
