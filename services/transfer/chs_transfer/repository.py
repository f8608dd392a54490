"""The transfer service's queries (asyncpg), mapping rows to ``model`` state.

A command about a person first locks the person's open-transfer slot by locking the person's
rows of the enrollment read model (``enrollments_of(..., for_update=True)`` of
``chs_events.read_models.enrollments``), so concurrent requests for one person serialize; the
partial unique index ``transfers_one_open`` is the last guard.
"""

import asyncpg

from chs_events.rows import Table
from chs_transfer.model import Contribution, Transfer

TRANSFERS = Table("transfers", Transfer, key="transfer_id")


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
    return await TRANSFERS.fetch_one(
        conn, "person_id = $1 and status in ('requested', 'out_confirmed')", person_id
    )


async def get_transfer(
    conn: asyncpg.Connection, transfer_id: str, *, lock: bool = False
) -> Transfer | None:
    return await TRANSFERS.get(conn, transfer_id, for_update=lock)


async def transfers_of(conn: asyncpg.Connection, person_id: str) -> list[Transfer]:
    return await TRANSFERS.fetch(conn, "person_id = $1 order by created_at, transfer_id", person_id)


async def insert_transfer(conn: asyncpg.Connection, t: Transfer) -> None:
    await TRANSFERS.insert(conn, t)


async def update_transfer(conn: asyncpg.Connection, t: Transfer) -> None:
    await TRANSFERS.update(
        conn,
        t,
        (
            "status",
            "contribution_months",
            "account_balance_fen",
            "rejected_by",
            "reason_code",
            "out_confirmed_on",
            "completed_on",
            "rejected_on",
            "confirmed_balance_fen",
            "platform_reference",
            "confirmed_by",
        ),
        also="updated_at = now()",
    )


# --- what the ledger moved (chs.account.events) ------------------------------------------------


async def record_ledger_movement(
    conn: asyncpg.Connection, transfer_id: str, transaction_id: str, amount_fen: int
) -> None:
    """One movement the accounts service reported; the transfer's balance moved is their sum."""
    inserted = await conn.fetchval(
        """insert into ledger_movements (transaction_id, transfer_id, amount_fen)
           values ($1, $2, $3) on conflict (transaction_id) do nothing returning true""",
        transaction_id,
        transfer_id,
        amount_fen,
    )
    if inserted:
        await conn.execute(
            """update transfers set updated_at = now(),
                 account_balance_fen = (select sum(amount_fen) from ledger_movements
                                        where transfer_id = $1)
               where transfer_id = $1""",
            transfer_id,
        )
