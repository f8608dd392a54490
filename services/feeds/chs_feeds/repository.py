"""The feeds service's queries (asyncpg), mapping rows to ``model`` state.

A chunk of reports locks its persons first (``lock_persons``: transaction-scoped advisory locks,
in person_id order, so two batches naming the same persons cannot deadlock), then reads what is
known of them in one query per table. The unique keys (``deaths.record_id``,
``(person_id, date_of_death)``, one current record per person, ``(case_id, person_id)``) are the
last guard.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

import asyncpg

from chs_events.rows import Table
from chs_feeds.model import AccidentCase, Batch, Death, Deaths, LineOutcome

BATCHES = Table("batches", Batch, key="batch_id")
DEATHS = Table("deaths", Death, key="record_id")
ACCIDENT_CASES = Table("accident_cases", AccidentCase)
LINES = Table(
    "batch_lines",
    LineOutcome,
    columns="line, outcome, reason, id_number, record_id",
)


async def lock_persons(conn: asyncpg.Connection, person_ids: Iterable[str]) -> None:
    """Each person's advisory lock (``chs_events.locks.lock_person``'s), held until the
    transaction ends, taken in person_id order."""
    await conn.execute(
        """select pg_advisory_xact_lock(hashtextextended(person_id, 0))
           from unnest($1::text[]) with ordinality as p(person_id, n) order by n""",
        sorted(set(person_ids)),
    )


# --- deaths --------------------------------------------------------------------------------------


async def deaths_of(conn: asyncpg.Connection, person_ids: Sequence[str]) -> dict[str, Deaths]:
    """Every person's death records (none: an empty ``Deaths``)."""
    found: dict[str, list[Death]] = defaultdict(list)
    for death in await DEATHS.fetch(
        conn, "person_id = any($1::text[]) order by recorded_at, record_id", list(person_ids)
    ):
        found[death.person_id].append(death)
    return {p: Deaths(p, tuple(found.get(p, ()))) for p in person_ids}


async def insert_death(conn: asyncpg.Connection, death: Death) -> None:
    await DEATHS.insert(conn, death)


async def supersede(conn: asyncpg.Connection, death: Death) -> None:
    await DEATHS.update(conn, death, ("superseded_by",))


async def add_sources(
    conn: asyncpg.Connection, table: str, keys: str, rows: Sequence[tuple[str, ...]]
) -> None:
    """The sources that reported each record (``death_sources`` by record id,
    ``accident_sources`` by case and person); a source already known is left as it is."""
    if rows:
        count = len(rows[0])
        await conn.executemany(
            f"""insert into {table} ({keys}, source)
                values ({", ".join(f"${i}" for i in range(1, count + 1))})
                on conflict do nothing""",
            rows,
        )


# --- accident cases ------------------------------------------------------------------------------


async def accident_cases(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], AccidentCase]:
    """The known cases among ``(case_id, person_id)`` keys."""
    cases = await ACCIDENT_CASES.fetch(
        conn,
        """(case_id, person_id) in (
               select * from unnest($1::text[], $2::text[]))""",
        [case_id for case_id, _ in keys],
        [person_id for _, person_id in keys],
    )
    return {(case.case_id, case.person_id): case for case in cases}


async def insert_accident_case(conn: asyncpg.Connection, case: AccidentCase) -> None:
    await ACCIDENT_CASES.insert(conn, case)


# --- batches -------------------------------------------------------------------------------------


async def insert_batch(conn: asyncpg.Connection, batch: Batch) -> None:
    await BATCHES.insert(conn, batch)


async def get_batch(
    conn: asyncpg.Connection, batch_id: str, *, for_update: bool = False
) -> Batch | None:
    return await BATCHES.get(conn, batch_id, for_update=for_update)


async def update_batch(conn: asyncpg.Connection, batch: Batch) -> None:
    await BATCHES.update(
        conn,
        batch,
        ("status", "lines", "accepted", "duplicates", "rejected", "stopped_reason", "completed_at"),
    )


async def insert_lines(
    conn: asyncpg.Connection, batch_id: str, outcomes: Sequence[LineOutcome]
) -> None:
    await conn.copy_records_to_table(
        "batch_lines",
        records=[(batch_id, *LINES.dump(outcome)) for outcome in outcomes],
        columns=("batch_id", *LINES.columns),
    )


async def lines_of(conn: asyncpg.Connection, batch_id: str) -> list[LineOutcome]:
    return await LINES.fetch(conn, "batch_id = $1 order by line", batch_id)
