"""The segments in SQL (``chs_push.repository``) over the projection match exactly what the
matcher (``rules.segments``) matches, criterion by criterion, on synthetic profiles written as
the processor writes them; the keyset scan fan-out will use returns every match once, in
order, resumable from any id; a row is replaced only by a profile of its revision or newer."""

from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from bench.push import TODAY, synthetic
from chs_events.db import connect, create_pool, ensure_database, migrate, migration_folders
from chs_events.settings import dsn_for_database
from chs_push import repository
from chs_push.rules.profile import Profile
from chs_push.rules.segments import Segment, compiled
from tests.support.service import throwaway_database

pytestmark = pytest.mark.integration

PROFILES = [
    replace(p, assisted_groups=frozenset({"dibao"})) if n % 50 == 0 else p
    for n, p in enumerate(synthetic(3000, seed=7))
]
RULES = [
    {},
    {"enrolled_only": False},
    {"insured_types": ["310"]},
    {"insured_types": ["392"]},
    {"region_prefix": "37"},
    {"region_prefix": "3702"},
    {"region_prefix": "370203"},
    {"age_min": 18, "age_max": 35},
    {"age_max": 0},
    {"elderly": True},
    {"elderly": False, "age_min": 50},
    {"sex": "F"},
    {"employer_id": PROFILES[0].employer_id or "E1"},
    {"conditions": ["t2dm", "gout"]},
    {"conditions": ["special"]},
    {"filing_category": "referral"},
    {"maternity_within_days": 90},
    {"assisted_groups": ["dibao", "tekun"]},
    {"region_prefix": "3701", "insured_types": ["390"], "conditions": ["circulatory"]},
]


@pytest.fixture(scope="module")
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    async with throwaway_database(database_url, "push") as name:
        await ensure_database(database_url, name)
        pool = await create_pool(dsn_for_database(database_url, name), max_size=1)
        async with pool.acquire() as conn:
            await migrate(conn, migration_folders("chs_push"))
        await pool.close()
        conn = await connect(dsn_for_database(database_url, name))
        for start in range(0, len(PROFILES), 1000):
            await repository.upsert_profiles(conn, PROFILES[start : start + 1000])
        yield conn
        await conn.close()


@pytest.mark.parametrize("rule", RULES, ids=[str(r) for r in RULES])
async def test_the_sql_count_is_the_matcher_s(db, rule):
    segment = Segment(**rule)
    expected = sorted(p.person_id for p in PROFILES if compiled(segment, TODAY)(p))
    assert await repository.count_matching(db, segment, TODAY) == len(expected)
    assert await repository.matching_page(db, segment, TODAY, limit=10) == expected[:10]


async def test_the_keyset_scan_returns_every_match_once_in_order(db):
    segment = Segment(region_prefix="37", age_min=30)
    expected = sorted(p.person_id for p in PROFILES if compiled(segment, TODAY)(p))
    scanned: list[str] = []
    after = ""
    while page := await repository.matching_page(db, segment, TODAY, after=after, limit=97):
        scanned += page
        after = page[-1]  # where a fan-out stopped, and resumes
    assert scanned == expected


async def test_a_row_is_replaced_by_its_revision_or_a_newer_one_only(db):
    person = replace(PROFILES[1], person_id="p" + "f" * 32)  # not among the counted
    newer = replace(person, revision=5, opted_out=True)
    older = replace(person, revision=4, opted_out=False)
    await repository.upsert_profiles(db, [newer])
    await repository.upsert_profiles(db, [older])  # a previous owner, late
    kept: Profile | None = await repository.profile(db, person.person_id)
    assert kept == newer
    await repository.upsert_profiles(db, [newer])  # the same again: the same row
    assert await repository.profile(db, person.person_id) == newer
    await db.execute("delete from profiles where person_id = $1", person.person_id)
