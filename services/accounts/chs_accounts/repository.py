"""The accounts service's queries (asyncpg), mapping rows to ``model`` state.

Every change of an account's money takes the person's lock and the account's row first
(``get_account(..., for_update=True)``: ``select … for update``), so concurrent debits of one
account serialize and each sees the balance the previous one left; the ``balance_fen >= 0``
check is the last guard.
"""

from dataclasses import dataclass
from datetime import date

import asyncpg

from chs_accounts.model import Account, FamilyMember, LedgerTransaction
from chs_events.events.base import Event
from chs_events.rows import Table
from chs_events.unit_of_work import UnitOfWork

ACCOUNTS = Table("accounts", Account, key="account_id")
TRANSACTIONS = Table("ledger_transactions", LedgerTransaction, key="transaction_id")
FAMILY = Table("family_members", FamilyMember)


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


async def is_resident(conn: asyncpg.Connection, person_id: str) -> bool:
    return bool(await conn.fetchval("select resident from persons where person_id = $1", person_id))


# --- accounts -------------------------------------------------------------------------------------


async def insert_account(conn: asyncpg.Connection, a: Account) -> bool:
    """False when the person has an account already."""
    return await ACCOUNTS.insert(conn, a, on_conflict_do_nothing="(person_id)")


async def get_account(
    conn: asyncpg.Connection, person_id: str, *, for_update: bool = False
) -> Account | None:
    return await ACCOUNTS.fetch_one(conn, "person_id = $1", person_id, for_update=for_update)


_ACCOUNT_CHANGES = (
    "enrollment_id",
    "pooling_region",
    "status",
    "balance_fen",
    "closed_reason",
    "closed_on",
)


async def update_account(conn: asyncpg.Connection, a: Account) -> None:
    await ACCOUNTS.update(conn, a, _ACCOUNT_CHANGES, also="updated_at = now()")


# --- family ---------------------------------------------------------------------------------------


async def family_of(conn: asyncpg.Connection, account_id: str) -> list[FamilyMember]:
    return await FAMILY.fetch(
        conn, "account_id = $1 and revoked_on is null order by created_at", account_id
    )


async def authorize(conn: asyncpg.Connection, m: FamilyMember) -> bool:
    """False when the member is authorized already."""
    return await FAMILY.insert(
        conn, m, on_conflict_do_nothing="(account_id, member_person_id) where revoked_on is null"
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
    return await TRANSACTIONS.get(conn, transaction_id)


async def closing_transfer_out(
    conn: asyncpg.Connection, account_id: str
) -> LedgerTransaction | None:
    """The transfer-out that closed the account: its latest whole-balance move to clearing."""
    return await TRANSACTIONS.fetch_one(
        conn,
        "account_id = $1 and kind = 'transfer_out' and transaction_id = 'transfer-out:' || "
        "reference order by posted_at desc, transaction_id desc limit 1",
        account_id,
    )


async def insert_transaction(conn: asyncpg.Connection, t: LedgerTransaction) -> None:
    """The transaction and its two postings (they sum to zero)."""
    await TRANSACTIONS.insert(conn, t)
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


_POSTINGS = (
    "insert into postings (transaction_id, line, ledger_account, amount_fen) "
    "select $1, p.line, p.ledger_account, p.amount_fen "
    "from unnest($2::smallint[], $3::text[], $4::bigint[]) as p(line, ledger_account, amount_fen)"
)


async def save_posting_recording(
    uow: UnitOfWork, a: Account, t: LedgerTransaction, *events: Event
) -> None:
    """``save_posting`` and the events announcing it, in one statement."""
    postings = t.postings
    await uow.record_with(
        [
            (f"{TRANSACTIONS.insert_sql()} returning 1", TRANSACTIONS.dump(t)),
            (
                _POSTINGS,
                (
                    t.transaction_id,
                    list(range(1, len(postings) + 1)),
                    [p.ledger_account for p in postings],
                    [p.amount_fen for p in postings],
                ),
            ),
            (
                ACCOUNTS.update_sql(_ACCOUNT_CHANGES, also="updated_at = now()"),
                (a.account_id, *(getattr(a, name) for name in _ACCOUNT_CHANGES)),
            ),
        ],
        *events,
    )


@dataclass(frozen=True)
class CreditState:
    """What a credit reads under the person's lock: the account (its row locked), whether the
    posting is in the ledger already, the holder's birth date (the allocation's age band)."""

    account: Account | None
    posted: bool
    birth_date: date | None


_CREDIT_STATE = (
    f"select {', '.join(f'a.{name}' for name in ACCOUNTS.columns)}, "
    "exists (select from ledger_transactions where transaction_id = $2) as posted, "
    "(select birth_date from persons where person_id = $1) as birth_date "
    "from accounts a where a.person_id = $1 for update of a"
)


async def credit_state(
    conn: asyncpg.Connection, person_id: str, transaction_id: str
) -> CreditState:
    """The account (locked ``for update``), whether ``transaction_id`` is posted, the birth date:
    one statement (the caller holds the person's lock). Without an account: None, and the
    other two are not read."""
    row = await conn.fetchrow(_CREDIT_STATE, person_id, transaction_id)
    if row is None:
        return CreditState(None, False, None)
    return CreditState(ACCOUNTS.load(row), row["posted"], row["birth_date"])


async def transactions_of(
    conn: asyncpg.Connection, account_id: str, limit: int = 100
) -> list[LedgerTransaction]:
    return await TRANSACTIONS.fetch(
        conn,
        "account_id = $1 order by posted_at desc, transaction_id desc limit $2",
        account_id,
        limit,
    )


async def postings_sum(conn: asyncpg.Connection, ledger_account: str) -> int:
    return await conn.fetchval(
        "select coalesce(sum(amount_fen), 0)::bigint from postings where ledger_account = $1",
        ledger_account,
    )
