"""The maternity service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person takes the person's advisory lock first
(``chs_events.locks``), so one person's changes serialize across instances and their outbox
rows are in commit order.
"""

from datetime import date, timedelta

import asyncpg

from chs_maternity.model import Allowance, Application

# One allowance per confinement: two granted within this many days are the same one (a second
# delivery settlement, or an application beside a settlement that already granted it).
SAME_CONFINEMENT_DAYS = 180

_APPLICATION = """application_id, person_id, enrollment_id, employer_id, kind, event_date,
    babies, difficult_birth, gestational_weeks, reference, status, submitted_at, decided_at,
    decided_by, allowance_id"""
_ALLOWANCE = """allowance_id, person_id, source, settlement_id, application_id, employer_id,
    kind, event_date, babies, difficult_birth, gestational_weeks, leave_days, monthly_wage_fen,
    daily_wage_fen, amount_fen, status, approved_at, paid_on, payment_reference"""


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


async def insert_application(conn: asyncpg.Connection, a: Application) -> None:
    await conn.execute(
        f"""insert into applications ({_APPLICATION}) values
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)""",
        a.application_id,
        a.person_id,
        a.enrollment_id,
        a.employer_id,
        a.kind,
        a.event_date,
        a.babies,
        a.difficult_birth,
        a.gestational_weeks,
        a.reference,
        a.status,
        a.submitted_at,
        a.decided_at,
        a.decided_by,
        a.allowance_id,
    )


async def get_application(
    conn: asyncpg.Connection, application_id: str, *, for_update: bool = False
) -> Application | None:
    row = await conn.fetchrow(
        f"select {_APPLICATION} from applications where application_id = $1"
        + (" for update" if for_update else ""),
        application_id,
    )
    return Application(**row) if row else None


async def save_application(conn: asyncpg.Connection, a: Application) -> None:
    """The application's decision as the aggregate holds it."""
    await conn.execute(
        """update applications set status = $2, decided_at = $3, decided_by = $4,
               allowance_id = $5 where application_id = $1""",
        a.application_id,
        a.status,
        a.decided_at,
        a.decided_by,
        a.allowance_id,
    )


async def applications_of(conn: asyncpg.Connection, person_id: str) -> list[Application]:
    rows = await conn.fetch(
        f"""select {_APPLICATION} from applications where person_id = $1
            order by submitted_at, application_id""",
        person_id,
    )
    return [Application(**row) for row in rows]


# --- allowances ----------------------------------------------------------------------------------


async def same_confinement(
    conn: asyncpg.Connection, person_id: str, event_date: date
) -> Allowance | None:
    """An allowance of the person whose event is within ``SAME_CONFINEMENT_DAYS``."""
    window = timedelta(days=SAME_CONFINEMENT_DAYS)
    row = await conn.fetchrow(
        f"""select {_ALLOWANCE} from allowances where person_id = $1
              and event_date > $2 and event_date < $3
            order by event_date limit 1""",
        person_id,
        event_date - window,
        event_date + window,
    )
    return Allowance(**row) if row else None


async def insert_allowance(conn: asyncpg.Connection, a: Allowance) -> bool:
    """False when the settlement (or application) already granted one."""
    inserted = await conn.fetchval(
        f"""insert into allowances ({_ALLOWANCE}) values
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19)
            on conflict do nothing returning true""",
        a.allowance_id,
        a.person_id,
        a.source,
        a.settlement_id,
        a.application_id,
        a.employer_id,
        a.kind,
        a.event_date,
        a.babies,
        a.difficult_birth,
        a.gestational_weeks,
        a.leave_days,
        a.monthly_wage_fen,
        a.daily_wage_fen,
        a.amount_fen,
        a.status,
        a.approved_at,
        a.paid_on,
        a.payment_reference,
    )
    return bool(inserted)


async def get_allowance(
    conn: asyncpg.Connection, allowance_id: str, *, for_update: bool = False
) -> Allowance | None:
    row = await conn.fetchrow(
        f"select {_ALLOWANCE} from allowances where allowance_id = $1"
        + (" for update" if for_update else ""),
        allowance_id,
    )
    return Allowance(**row) if row else None


async def allowances_of(conn: asyncpg.Connection, person_id: str) -> list[Allowance]:
    rows = await conn.fetch(
        f"""select {_ALLOWANCE} from allowances where person_id = $1
            order by event_date, allowance_id""",
        person_id,
    )
    return [Allowance(**row) for row in rows]


async def save_allowance(conn: asyncpg.Connection, a: Allowance) -> None:
    """The allowance's payment as the aggregate holds it."""
    await conn.execute(
        """update allowances set status = $2, paid_on = $3, payment_reference = $4
           where allowance_id = $1""",
        a.allowance_id,
        a.status,
        a.paid_on,
        a.payment_reference,
    )
