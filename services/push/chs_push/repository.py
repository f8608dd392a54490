"""The push service's database: the profiles projection (written by the processor, a batch per
statement) and the segments over it (the same criteria as ``rules.segments``, in SQL).

A segment becomes one ``where`` clause with its parameters (``segment_where``): the day's
bounds computed as the matcher computes them (``rules.segments.latest_birth``), a list
criterion an array overlap, the region a prefix (``text_pattern_ops`` index). Preview is one
count and the first ``sample_size`` person ids of the matches; fan-out (later) is a keyset scan
of the same clause in person_id order (``matching_page``), resumable from the last id sent.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
import orjson

from chs_push.rules import conditions
from chs_push.rules.profile import ELDERLY_AGE, Profile, dump, load
from chs_push.rules.segments import Segment, latest_birth

COLUMNS = (
    "person_id",
    "revision",
    "region",
    "insutypes",
    "enrolled",
    "alive",
    "opted_out",
    "sex",
    "birth_date",
    "employer_id",
    "conditions",
    "filing_categories",
    "maternity_date",
    "assisted_groups",
    "profile",
)
_TYPES = {
    "person_id": "text",
    "revision": "bigint",
    "region": "text",
    "insutypes": "text[]",
    "enrolled": "boolean",
    "alive": "boolean",
    "opted_out": "boolean",
    "sex": "text",
    "birth_date": "date",
    "employer_id": "text",
    "conditions": "text[]",
    "filing_categories": "text[]",
    "maternity_date": "date",
    "assisted_groups": "text[]",
    "profile": "jsonb",
}
_LIST = ", ".join(COLUMNS)
_RECORD = ", ".join(f"{name} {_TYPES[name]}" for name in COLUMNS)
_SET = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[1:])
# One statement a batch: the rows as one JSON document, each a record of the columns. A row is
# replaced by one of its revision or a newer one only: a partition's previous owner, still
# finishing a batch after a rebalance, cannot put an older profile back.
UPSERT = f"""insert into profiles ({_LIST})
    select {_LIST} from jsonb_to_recordset($1::jsonb) as r({_RECORD})
    on conflict (person_id) do update set {_SET}, updated_at = now()
    where profiles.revision <= excluded.revision"""


def row_of(profile: Profile) -> dict[str, Any]:
    """The projection's row of a profile, as ``UPSERT``'s JSON record."""
    return {
        "person_id": profile.person_id,
        "revision": profile.revision,
        "region": profile.region,
        "insutypes": sorted(profile.insutypes),
        "enrolled": profile.enrolled,
        "alive": profile.alive,
        "opted_out": profile.opted_out,
        "sex": profile.sex,
        "birth_date": profile.birth_date,
        "employer_id": profile.employer_id,
        "conditions": sorted(profile.condition_codes),
        "filing_categories": sorted(profile.filing_categories),
        "maternity_date": profile.maternity_date,
        "assisted_groups": sorted(profile.assisted_groups),
        "profile": orjson.Fragment(dump(profile)),
    }


async def upsert_profiles(
    conn: asyncpg.Connection | asyncpg.Pool, profiles: Iterable[Profile]
) -> int:
    """The profiles' rows written in one statement; how many were given."""
    rows = [row_of(p) for p in profiles]
    if rows:
        await conn.execute(UPSERT, rows)
    return len(rows)


def segment_where(segment: Segment, today: date) -> tuple[str, list[Any]]:
    """The segment as a ``where`` clause over ``profiles`` and its parameters ($1…)."""
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses = ["alive", "not opted_out"]
    if segment.enrolled_only:
        clauses.append("enrolled")
    if segment.insured_types is not None:
        clauses.append(f"insutypes && {param(sorted(set(segment.insured_types)))}::text[]")
    if segment.region_prefix is not None:
        clauses.append(f"region like {param(segment.region_prefix + '%')}")
    last, first = None, None
    if segment.age_min is not None:
        last = latest_birth(today, segment.age_min)
    if segment.age_max is not None:
        first = latest_birth(today, segment.age_max + 1)
    if segment.elderly is True:
        last = min(x for x in (last, latest_birth(today, ELDERLY_AGE)) if x is not None)
    elif segment.elderly is False:
        first = max(x for x in (first, latest_birth(today, ELDERLY_AGE)) if x is not None)
    if last is not None:
        clauses.append(f"birth_date <= {param(date.fromordinal(last))}")
    if first is not None:
        clauses.append(f"birth_date > {param(date.fromordinal(first))}")
    if segment.sex is not None:
        clauses.append(f"sex = {param(segment.sex)}")
    if segment.employer_id is not None:
        clauses.append(f"employer_id = {param(segment.employer_id)}")
    if segment.conditions is not None:
        codes = sorted(conditions.codes_of(segment.conditions))
        clauses.append(f"conditions && {param(codes)}::text[]")
    if segment.filing_category is not None:
        clauses.append(f"filing_categories @> array[{param(segment.filing_category)}::text]")
    if segment.maternity_within_days is not None:
        since = today - timedelta(days=segment.maternity_within_days)
        clauses.append(f"maternity_date between {param(since)} and {param(today)}")
    if segment.assisted_groups is not None:
        groups = sorted(set(segment.assisted_groups))
        clauses.append(f"assisted_groups && {param(groups)}::text[]")
    return " and ".join(clauses), args


async def count_matching(conn: asyncpg.Connection, segment: Segment, today: date) -> int:
    where, args = segment_where(segment, today)
    return int(await conn.fetchval(f"select count(*) from profiles where {where}", *args))


async def matching_page(
    conn: asyncpg.Connection, segment: Segment, today: date, *, after: str = "", limit: int = 1000
) -> list[str]:
    """The person ids the segment matches after ``after``, in order: fan-out's keyset scan, and
    preview's sample (the first of them)."""
    where, args = segment_where(segment, today)
    n = len(args)
    rows: Sequence[asyncpg.Record] = await conn.fetch(
        f"select person_id from profiles where {where} and person_id > ${n + 1} "
        f"order by person_id limit ${n + 2}",
        *args,
        after,
        limit,
    )
    return [row["person_id"] for row in rows]


async def profile(conn: asyncpg.Connection, person_id: str) -> Profile | None:
    """The projection's profile of a person (as the processor last wrote it)."""
    stored = await conn.fetchval(
        "select profile::text from profiles where person_id = $1", person_id
    )
    return None if stored is None else load(stored.encode())
