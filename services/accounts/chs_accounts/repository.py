"""The accounts service's queries (asyncpg), mapping rows to ``model`` state.

Every change of an account's money takes the person's lock and the account's row first
(``get_account(..., for_update=True)``: ``select … for update``), so concurrent debits of one
account serialize and each sees the balance the previous one left; the ``balance_fen >= 0``
check is the last guard.
"""

from datetime import date

import asyncpg

from chs_accounts.model import Account, FamilyMember, LedgerTransaction

_ACCOUNT = """account_id, person_id, enrollment_id, pooling_region, status, balance_fen,
              opened_on, closed_reason, closed_on"""
_TRANSACTION = """transaction_id, account_id, kind, amount_fen, balance_after_fen, counterpart,
                  posted_at, reference, spender_person_id, request_hash"""


# --- persons --------------------------------------------------------------------------------------


async def upsert_person(
    conn: asyncpg.Connection,
    person_id: str,
    *,
    birth_date: date | None = None,
    resident: bool | None = None,
) -> None:
    await conn.execute(
        """insert into persons (person_id, birth_date, resident)
           values ($1, $2, coalesce($3, false))
           on conflict (person_id) do update
             set birth_date = coalesce(excluded.birth_date, persons.birth_date),
                 resident = coalesce($3, persons.resident)""",
        person_id,
        birth_date,
        resident,
    )


async def birth_date_of(conn: asyncpg.Connection, person_id: str) -> date | None:
    return await conn.fetchval("select birth_date from persons where person_id = $1", person_id)


async def is_resident(conn: asyncpg.Connection, person_id: str) -> bool:
    return bool(await conn.fetchval("select resident from persons where person_id = $1", person_id))


# --- accounts -------------------------------------------------------------------------------------


async def insert_account(conn: asyncpg.Connection, a: Account) -> bool:
    """False when the person has an account already."""
    return (
        await conn.fetchval(
            f"""insert into accounts ({_ACCOUNT}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            on conflict (person_id) do nothing returning true""",
            a.account_id,
            a.person_id,
            a.enrollment_id,
            a.pooling_region,
            a.status,
            a.balance_fen,
            a.opened_on,
            a.closed_reason,
            a.closed_on,
        )
        is not None
    )


async def get_account(
    conn: asyncpg.Connection, person_id: str, *, for_update: bool = False
) -> Account | None:
    row = await conn.fetchrow(
        f"select {_ACCOUNT} from accounts where person_id = $1"
        + (" for update" if for_update else ""),
        person_id,
    )
    return Account(**row) if row else None


async def update_account(conn: asyncpg.Connection, a: Account) -> None:
    await conn.execute(
        """update accounts set enrollment_id = $2, pooling_region = $3, status = $4,
               balance_fen = $5, closed_reason = $6, closed_on = $7, updated_at = now()
           where account_id = $1""",
        a.account_id,
        a.enrollment_id,
        a.pooling_region,
        a.status,
        a.balance_fen,
        a.closed_reason,
        a.closed_on,
    )


# --- family ---------------------------------------------------------------------------------------


async def family_of(conn: asyncpg.Connection, account_id: str) -> list[FamilyMember]:
    rows = await conn.fetch(
        """select account_id, member_person_id, relation, authorized_on from family_members
           where account_id = $1 and revoked_on is null order by created_at""",
        account_id,
    )
    return [FamilyMember(**row) for row in rows]


async def authorize(conn: asyncpg.Connection, m: FamilyMember) -> bool:
    """False when the member is authorized already."""
    return (
        await conn.fetchval(
            """insert into family_members (account_id, member_person_id, relation, authorized_on)
           values ($1, $2, $3, $4)
           on conflict (account_id, member_person_id) where revoked_on is null do nothing
           returning true""",
            m.account_id,
            m.member_person_id,
            m.relation,
            m.authorized_on,
        )
        is not None
    )


async def revoke(conn: asyncpg.Connection, m: FamilyMember, on: date) -> None:
    await conn.execute(
        """update family_members set revoked_on = $3
           where account_id = $1 and member_person_id = $2 and revoked_on is null""",
        m.account_id,
        m.member_person_id,
        on,
    )


# --- the ledger -----------------------------------------------------------------------------------


async def get_transaction(
    conn: asyncpg.Connection, transaction_id: str
) -> LedgerTransaction | None:
    row = await conn.fetchrow(
        f"select {_TRANSACTION} from ledger_transactions where transaction_id = $1", transaction_id
    )
    return LedgerTransaction(**row) if row else None


async def insert_transaction(conn: asyncpg.Connection, t: LedgerTransaction) -> None:
    """The transaction and its two postings (they sum to zero)."""
    await conn.execute(
        f"""insert into ledger_transactions ({_TRANSACTION})
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        t.transaction_id,
        t.account_id,
        t.kind,
        t.amount_fen,
        t.balance_after_fen,
        t.counterpart,
        t.posted_at,
        t.reference,
        t.spender_person_id,
        t.request_hash,
    )
    await conn.executemany(
        "insert into postings (transaction_id, line, ledger_account, amount_fen) "
        "values ($1, $2, $3, $4)",
        [
            (t.transaction_id, line, p.ledger_account, p.amount_fen)
            for line, p in enumerate(t.postings, start=1)
        ],
    )


async def save_posting(conn: asyncpg.Connection, a: Account, t: LedgerTransaction) -> None:
    """A posting the account's method returned: its transaction and the account after it."""
    await insert_transaction(conn, t)
    await update_account(conn, a)


async def transactions_of(
    conn: asyncpg.Connection, account_id: str, limit: int = 100
) -> list[LedgerTransaction]:
    rows = await conn.fetch(
        f"""select {_TRANSACTION} from ledger_transactions where account_id = $1
            order by posted_at desc, transaction_id desc limit $2""",
        account_id,
        limit,
    )
    return [LedgerTransaction(**row) for row in rows]


async def postings_sum(conn: asyncpg.Connection, ledger_account: str) -> int:
    return await conn.fetchval(
        "select coalesce(sum(amount_fen), 0)::bigint from postings where ledger_account = $1",
        ledger_account,
    )
