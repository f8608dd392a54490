"""The reimbursement service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person takes the person's advisory lock first
(``chs_events.locks.lock_person``), so one person's settlements and claims read and replace the
year-to-date accumulators one after the other, across instances, and their outbox rows are in
commit order.
"""

from dataclasses import asdict
from typing import Any

import asyncpg

from chs_events.lookups import Lookup
from chs_events.rows import Table
from chs_reimbursement import domain
from chs_reimbursement.calculator import Accumulators, Line
from chs_reimbursement.model import Bill, Claim, Settlement, Split, Terms

_BILL = """institution_code, institution_name, institution_level, institution_region,
    visit_type, admission_date, discharge_date, diagnoses, eligible_fen, ineligible_fen,
    invoice_no, emergency"""
_TERMS = "enrollment_id, insutype, pooling_region, filing, remote_care_filing_id, basis"
_SPLIT = """total_fen, pooled_fund_fen, critical_illness_fen, medical_assistance_fen,
    personal_cash_fen, lines, accumulators_before, accumulators_after"""
_SETTLEMENT = f"""settlement_id, person_id, {_BILL}, {_TERMS}, maternity, {_SPLIT}, status,
    settled_at, reversed_at, reversal_reason_code"""
_CLAIM = f"""claim_id, person_id, {_BILL}, submitted_on, submitted_at, status, decided_at,
    {_TERMS}, {_SPLIT}, rule, reason, paid_on, payment_reference"""


# --- assisted groups and accumulators ----------------------------------------------------------


async def assisted_groups(conn: asyncpg.Connection, person_id: str) -> frozenset[str]:
    rows = await conn.fetch(
        "select group_code from assisted_groups where person_id = $1", person_id
    )
    return frozenset(row["group_code"] for row in rows)


async def replace_assisted_groups(
    conn: asyncpg.Connection, person_id: str, groups: frozenset[str]
) -> None:
    await conn.execute(
        "delete from assisted_groups where person_id = $1 and not group_code = any($2::text[])",
        person_id,
        sorted(groups),
    )
    await conn.executemany(
        "insert into assisted_groups (person_id, group_code) values ($1, $2) "
        "on conflict do nothing",
        [(person_id, group) for group in sorted(groups)],
    )


async def accumulators(conn: asyncpg.Connection, person_id: str, year: int) -> Accumulators:
    row = await conn.fetchrow(
        "select * from accumulators where person_id = $1 and year = $2", person_id, year
    )
    if row is None:
        return Accumulators(year)
    values = dict(row)
    del values["person_id"], values["updated_at"]
    return Accumulators(**values)


async def save_accumulators(conn: asyncpg.Connection, person_id: str, totals: Accumulators) -> None:
    values = asdict(totals)
    names = list(values)
    await conn.execute(
        f"""insert into accumulators (person_id, {", ".join(names)})
            values ($1, {", ".join(f"${i + 2}" for i in range(len(names)))})
            on conflict (person_id, year) do update set
            {", ".join(f"{n} = excluded.{n}" for n in names if n != "year")},
            updated_at = now()""",
        person_id,
        *values.values(),
    )


# --- invoices ------------------------------------------------------------------------------------


async def reserve_invoice(
    conn: asyncpg.Connection,
    institution_code: str,
    invoice_no: str,
    *,
    settlement_id: str | None = None,
    claim_id: str | None = None,
) -> str | None:
    """Reserve the institution's invoice for a settlement or claim; None when done, else what
    holds it ("settlement S…" / "claim C…"). An invoice number is unique per institution. A
    concurrent reservation waits for the first to commit."""
    inserted = await conn.fetchval(
        """insert into invoices (institution_code, invoice_no, settlement_id, claim_id)
           values ($1, $2, $3, $4)
           on conflict (institution_code, invoice_no) do nothing returning true""",
        institution_code,
        invoice_no,
        settlement_id,
        claim_id,
    )
    if inserted:
        return None
    row = await conn.fetchrow(
        """select settlement_id, claim_id from invoices
           where institution_code = $1 and invoice_no = $2""",
        institution_code,
        invoice_no,
    )
    return (
        f"settlement {row['settlement_id']}" if row["settlement_id"] else f"claim {row['claim_id']}"
    )


async def release_invoice(conn: asyncpg.Connection, institution_code: str, invoice_no: str) -> None:
    await conn.execute(
        "delete from invoices where institution_code = $1 and invoice_no = $2",
        institution_code,
        invoice_no,
    )


# --- rows ↔ state --------------------------------------------------------------------------------


def _bill_values(b: Bill) -> tuple:
    return (
        b.institution_code,
        b.institution_name,
        b.institution_level,
        b.institution_region,
        b.visit_type,
        b.admission_date,
        b.discharge_date,
        list(b.diagnoses),
        b.eligible_fen,
        b.ineligible_fen,
        b.invoice_no,
        b.emergency,
    )


def _terms_values(t: Terms | None) -> tuple:
    return (
        (t.enrollment_id, t.insutype, t.region, t.filing, t.filing_id, t.basis)
        if t
        else (None,) * 6
    )


def _split_values(s: Split | None, before: Accumulators | None) -> tuple:
    if s is None or before is None:
        return (None,) * 8
    return (
        s.total_fen,
        s.pooled_fund_fen,
        s.critical_illness_fen,
        s.medical_assistance_fen,
        s.personal_cash_fen,
        [asdict(line) for line in s.lines],
        asdict(before),
        asdict(s.accumulators),
    )


def _bill(row: asyncpg.Record) -> Bill:
    return Bill(
        row["institution_code"],
        row["institution_name"],
        row["institution_level"],
        row["institution_region"],
        row["visit_type"],
        row["admission_date"],
        row["discharge_date"],
        tuple(row["diagnoses"]),
        row["eligible_fen"],
        row["ineligible_fen"],
        row["invoice_no"],
        row["emergency"],
    )


def _terms(row: asyncpg.Record) -> Terms:
    return Terms(
        row["enrollment_id"],
        row["insutype"],
        row["pooling_region"],
        row["filing"],
        row["remote_care_filing_id"],
        row["basis"],
    )


def _split(row: asyncpg.Record) -> Split:
    return Split(
        row["total_fen"],
        row["eligible_fen"],
        row["ineligible_fen"],
        row["pooled_fund_fen"],
        row["critical_illness_fen"],
        row["medical_assistance_fen"],
        row["personal_cash_fen"],
        tuple(Line(**line) for line in row["lines"]),
        Accumulators(**row["accumulators_after"]),
    )


def _before(row: asyncpg.Record) -> Accumulators:
    return Accumulators(**row["accumulators_before"])


# --- settlements ---------------------------------------------------------------------------------


def _settlement(row: asyncpg.Record) -> Settlement:
    return Settlement(
        row["settlement_id"],
        row["person_id"],
        _bill(row),
        _terms(row),
        row["maternity"],
        _split(row),
        _before(row),
        row["status"],
        row["settled_at"],
        row["reversed_at"],
        row["reversal_reason_code"],
    )


def _settlement_values(s: Settlement) -> tuple[Any, ...]:
    return (
        s.settlement_id,
        s.person_id,
        *_bill_values(s.bill),
        *_terms_values(s.terms),
        s.maternity,
        *_split_values(s.split, s.accumulators_before),
        s.status,
        s.settled_at,
        s.reversed_at,
        s.reversal_reason_code,
    )


SETTLEMENTS = Table(
    "settlements",
    Settlement,
    key="settlement_id",
    columns=_SETTLEMENT,
    load=_settlement,
    dump=_settlement_values,
)


# The plain reads and inserts are the tables' own: get(conn, id, *, for_update=False).
insert_settlement = SETTLEMENTS.insert
get_settlement = SETTLEMENTS.get
settlements = Lookup("settlement", get_settlement, domain.SettlementNotFound)


async def save_settlement(conn: asyncpg.Connection, s: Settlement) -> None:
    """Its changeable fields (status, reversal) as the aggregate has them."""
    await SETTLEMENTS.update(conn, s, ("status", "reversed_at", "reversal_reason_code"))


async def settlements_of(conn: asyncpg.Connection, person_id: str) -> list[Settlement]:
    return await SETTLEMENTS.fetch(
        conn, "person_id = $1 order by settled_at, settlement_id", person_id
    )


# --- claims --------------------------------------------------------------------------------------


def _claim(row: asyncpg.Record) -> Claim:
    return Claim(
        row["claim_id"],
        row["person_id"],
        _bill(row),
        row["submitted_on"],
        row["submitted_at"],
        row["status"],
        row["decided_at"],
        _terms(row) if row["enrollment_id"] is not None else None,  # a rejected claim has none
        _split(row) if row["pooled_fund_fen"] is not None else None,
        _before(row) if row["accumulators_before"] is not None else None,
        row["rule"],
        row["reason"],
        row["paid_on"],
        row["payment_reference"],
    )


def _claim_values(c: Claim) -> tuple[Any, ...]:
    return (
        c.claim_id,
        c.person_id,
        *_bill_values(c.bill),
        c.submitted_on,
        c.submitted_at,
        c.status,
        c.decided_at,
        *_terms_values(c.terms),
        *_split_values(c.split, c.accumulators_before),
        c.rule,
        c.reason,
        c.paid_on,
        c.payment_reference,
    )


CLAIMS = Table("claims", Claim, key="claim_id", columns=_CLAIM, load=_claim, dump=_claim_values)


insert_claim = CLAIMS.insert
get_claim = CLAIMS.get
claims = Lookup("claim", get_claim, domain.ClaimNotFound)


async def save_claim(conn: asyncpg.Connection, c: Claim) -> None:
    """Its changeable fields (status, payment) as the aggregate has them."""
    await CLAIMS.update(conn, c, ("status", "paid_on", "payment_reference"))


async def claims_of(conn: asyncpg.Connection, person_id: str) -> list[Claim]:
    return await CLAIMS.fetch(conn, "person_id = $1 order by submitted_at, claim_id", person_id)
