"""The push service's database: the profiles projection (written by the processor, a batch per
statement), the segments over it (the same criteria as ``rules.segments``, in SQL), and the
campaigns with their targets.

A segment becomes one ``where`` clause with its parameters (``segment_where``): the day's
bounds computed as the matcher computes them (``rules.segments.latest_birth``), a list
criterion an array overlap, the region a prefix (``text_pattern_ops`` index). Preview is one
count and the first ``sample_size`` person ids of the matches; fan-out is a keyset scan of the
same clause in person_id order (``matching_page``), resumable from the last id sent.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from chs_events import regions
from chs_events.rows import Convert, Table
from chs_push.domain import PROGRESS, STATUS_RANK, CampaignNotFound
from chs_push.model import Campaign
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


# --- campaigns ---------------------------------------------------------------------------------


# jsonb columns through the pool's codec (orjson): a segment as its JSON object, params as is.
CAMPAIGNS = Table(
    "campaigns",
    Campaign,
    key="campaign_id",
    convert={
        "segment": Convert(
            lambda segment: segment.model_dump(mode="json", exclude_none=True),
            Segment.model_validate,
        ),
        "params": Convert(dict, dict),
    },
)
get_campaign = CAMPAIGNS.get


async def campaign_found(conn: asyncpg.Connection, campaign_id: str) -> Campaign:
    """The campaign as it is (a route's read), else 404. (Not a ``Lookup``: a campaign is of
    no person, and its lock is its row's.)"""
    campaign = await get_campaign(conn, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    return campaign


async def campaign_for_change(conn: asyncpg.Connection, campaign_id: str) -> Campaign:
    """The campaign locked (``for update``) until the transaction ends: its changes, and the
    fan-out's pages, one after the other."""
    campaign = await get_campaign(conn, campaign_id, for_update=True)
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    return campaign


async def insert_campaign(conn: asyncpg.Connection, campaign: Campaign) -> None:
    await CAMPAIGNS.insert(conn, campaign)


async def save_campaign(
    conn: asyncpg.Connection, campaign: Campaign, columns: Sequence[str]
) -> None:
    await CAMPAIGNS.update(conn, campaign, columns, also="updated_at = now()")


def _within(area: str) -> str:
    """A ``like`` pattern of the region codes ``area`` covers (``chs_events.regions.covers``)."""
    level = regions.region(area).level
    return {"province": area[:2] + "%", "city": area[:4] + "%"}.get(level, area)


async def campaigns_within(
    conn: asyncpg.Connection, area: str, limit: int, offset: int
) -> tuple[int, list[Campaign]]:
    """The campaigns of ``area`` or of its parts, the newest first, and how many there are."""
    pattern = _within(area)
    total = await conn.fetchval("select count(*) from campaigns where region like $1", pattern)
    page = await CAMPAIGNS.fetch(
        conn,
        "region like $1 order by created_at desc, campaign_id limit $2 offset $3",
        pattern,
        limit,
        offset,
    )
    return int(total), page


WAKE_CHANNEL = "chs_push_fanout"  # NOTIFY'd when a campaign starts: the fan-out wakes at once


async def wake_fanout(conn: asyncpg.Connection) -> None:
    """Wake the fan-out when the transaction commits."""
    await conn.execute("select pg_notify($1, '')", WAKE_CHANNEL)


async def due_campaigns(conn: asyncpg.Connection, at: datetime) -> list[str]:
    """The published campaigns whose time has come."""
    rows = await conn.fetch(
        "select campaign_id from campaigns where status = 'published' "
        "and (send_at is null or send_at <= $1) order by send_at nulls first, campaign_id",
        at,
    )
    return [row["campaign_id"] for row in rows]


async def running_campaigns(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "select campaign_id from campaigns where status = 'running' "
        "order by started_at, campaign_id"
    )
    return [row["campaign_id"] for row in rows]


async def insert_targets(
    conn: asyncpg.Connection, campaign_id: str, targets: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (person id, notice id) targets of a page, in one statement; those that were not
    targets already (a page written again writes nothing)."""
    rows = await conn.fetch(
        """insert into campaign_targets (campaign_id, person_id, notice_id)
           select $1, t.person_id, t.notice_id from unnest($2::text[], $3::text[])
                as t(person_id, notice_id)
           on conflict do nothing
           returning person_id, notice_id""",
        campaign_id,
        [person_id for person_id, _ in targets],
        [notice for _, notice in targets],
    )
    written = {row["person_id"]: row["notice_id"] for row in rows}
    return [(person_id, written[person_id]) for person_id, _ in targets if person_id in written]


async def record_status(
    conn: asyncpg.Connection, notice_id: str, status: str, at: datetime
) -> bool:
    """A target's status, when it moves it forward; False for a notice of no campaign (or a
    status it has passed)."""
    changed = await conn.fetchval(
        """update campaign_targets set status = $2, status_rank = $3, status_at = $4
           where notice_id = $1 and status_rank < $3 returning true""",
        notice_id,
        status,
        STATUS_RANK[status],
        at,
    )
    return bool(changed)


async def progress(conn: asyncpg.Connection, campaign_id: str) -> dict[str, int]:
    """Each target counted once, under its latest status (``queued``: none announced yet)."""
    rows = await conn.fetch(
        "select coalesce(status, 'queued') as status, count(*) as n from campaign_targets "
        "where campaign_id = $1 group by 1",
        campaign_id,
    )
    counts = dict.fromkeys(PROGRESS, 0)
    for row in rows:
        counts[row["status"]] = int(row["n"])
    counts["targeted"] = sum(int(row["n"]) for row in rows)
    return counts
