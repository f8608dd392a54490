"""The transfer service's queries (asyncpg), mapping rows to ``model`` state.

A command about a person first locks the person's open-transfer slot by locking the person's
rows of the enrollment read model (``enrollments_of(..., for_update=True)`` of
``chs_events.read_models.enrollments``), so concurrent requests for one person serialize; the
partial unique index ``transfers_one_open`` is the last guard.
"""

import asyncpg

from chs_transfer.model import Contribution, Transfer

_TRANSFER = """transfer_id, person_id, enrollment_id, from_region, to_region, cross_province,
               status, requested_on, contribution_months, account_balance_fen, rejected_by,
               reason, out_confirmed_on, completed_on, rejected_on"""


# --- read model of ContributionPaid ------------------------------------------------------------


async def insert_contribution(
    conn: asyncpg.Connection, person_id: str, contribution: Contribution
) -> None:
    await conn.execute(
        """insert into contributions (payment_id, enrollment_id, person_id, period,
                                      employer_part_fen, personal_part_fen)
           values ($1, $2, $3, $4, $5, $6) on conflict (payment_id) do nothing""",
        contribution.payment_id,
        contribution.enrollment_id,
        person_id,
        contribution.period,
        contribution.employer_part_fen,
        contribution.personal_part_fen,
    )


async def contributions_of(conn: asyncpg.Connection, enrollment_id: str) -> list[Contribution]:
    rows = await conn.fetch(
        """select payment_id, enrollment_id, period, employer_part_fen, personal_part_fen
           from contributions where enrollment_id = $1 order by period, payment_id""",
        enrollment_id,
    )
    return [Contribution(**row) for row in rows]


# --- transfers -----------------------------------------------------------------------------------


async def open_transfer(conn: asyncpg.Connection, person_id: str) -> Transfer | None:
    row = await conn.fetchrow(
        f"""select {_TRANSFER} from transfers
            where person_id = $1 and status in ('requested', 'out_confirmed')""",
        person_id,
    )
    return Transfer(**row) if row else None


async def get_transfer(
    conn: asyncpg.Connection, transfer_id: str, *, lock: bool = False
) -> Transfer | None:
    row = await conn.fetchrow(
        f"select {_TRANSFER} from transfers where transfer_id = $1"
        + (" for update" if lock else ""),
        transfer_id,
    )
    return Transfer(**row) if row else None


async def transfers_of(conn: asyncpg.Connection, person_id: str) -> list[Transfer]:
    rows = await conn.fetch(
        f"select {_TRANSFER} from transfers where person_id = $1 order by created_at, transfer_id",
        person_id,
    )
    return [Transfer(**row) for row in rows]


async def insert_transfer(conn: asyncpg.Connection, t: Transfer) -> None:
    await conn.execute(
        f"""insert into transfers ({_TRANSFER})
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)""",
        t.transfer_id,
        t.person_id,
        t.enrollment_id,
        t.from_region,
        t.to_region,
        t.cross_province,
        t.status,
        t.requested_on,
        t.contribution_months,
        t.account_balance_fen,
        t.rejected_by,
        t.reason,
        t.out_confirmed_on,
        t.completed_on,
        t.rejected_on,
    )


async def update_transfer(conn: asyncpg.Connection, t: Transfer) -> None:
    await conn.execute(
        """update transfers set status = $2, contribution_months = $3, account_balance_fen = $4,
               rejected_by = $5, reason = $6, out_confirmed_on = $7, completed_on = $8,
               rejected_on = $9, updated_at = now()
           where transfer_id = $1""",
        t.transfer_id,
        t.status,
        t.contribution_months,
        t.account_balance_fen,
        t.rejected_by,
        t.reason,
        t.out_confirmed_on,
        t.completed_on,
        t.rejected_on,
    )
