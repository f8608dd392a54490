"""The fraud service's queries (asyncpg): the signals as cases."""

from dataclasses import dataclass

import asyncpg
import orjson

from chs_events import regions
from chs_events.events.fraud import Benefit
from chs_events.lookups import Lookup
from chs_events.rows import Convert, Table
from chs_fraud import domain
from chs_fraud.model import Signal


def _benefits_json(benefits: tuple[Benefit, ...]) -> str:
    return orjson.dumps([b.model_dump(mode="json") for b in benefits]).decode()


def _benefits(stored: str) -> tuple[Benefit, ...]:
    return tuple(Benefit.model_validate(item) for item in orjson.loads(stored))


SIGNALS = Table(
    "signals", Signal, key="signal_id", convert={"benefits": Convert(_benefits_json, _benefits)}
)
get_signal = SIGNALS.get
signals = Lookup("signal", get_signal, domain.SignalNotFound)


async def insert_signal(conn: asyncpg.Connection, signal: Signal) -> bool:
    """False when the signal is already a case."""
    return await SIGNALS.insert(conn, signal, on_conflict_do_nothing=True)


async def save_resolution(conn: asyncpg.Connection, signal: Signal) -> None:
    await SIGNALS.update(
        conn,
        signal,
        ("status", "recovered_fen", "reason", "resolved_by", "resolved_on", "resolved_at"),
    )


@dataclass(frozen=True)
class Worklist:
    """Which signals an auditor lists: those of ``area`` (a region code covering theirs) with
    the given kind, status and amount bounds, the largest amounts first."""

    area: str
    kind: str | None = None
    status: str | None = None
    min_amount_fen: int | None = None
    max_amount_fen: int | None = None


def _within(area: str) -> str:
    """A ``like`` pattern of the region codes ``area`` covers (``chs_events.regions.covers``)."""
    level = regions.region(area).level
    return {"province": area[:2] + "%", "city": area[:4] + "%"}.get(level, area)


async def worklist(
    conn: asyncpg.Connection, asked: Worklist, limit: int, offset: int
) -> tuple[int, list[Signal]]:
    """How many signals match, and the page of them."""
    where = """region like $1 and ($2::text is null or kind = $2)
               and ($3::text is null or status = $3)
               and ($4::bigint is null or amount_fen >= $4)
               and ($5::bigint is null or amount_fen <= $5)"""
    args = (
        _within(asked.area),
        asked.kind,
        asked.status,
        asked.min_amount_fen,
        asked.max_amount_fen,
    )
    total = await conn.fetchval(f"select count(*) from signals where {where}", *args)
    page = await SIGNALS.fetch(
        conn,
        f"{where} order by amount_fen desc, signal_id limit $6 offset $7",
        *args,
        limit,
        offset,
    )
    return total, page
