"""Segment matching over synthetic push profiles, as ratios against baselines in the same run;
and the SQL preview over the same profiles in push's projection.

    make bench-push      (or: python bench/push.py [--profiles 200000] [--no-database])

The profiles (``--profiles``, default 200,000) are Shandong's insured: 16 cities, 70 % employees
(310) and 30 % residents (390, so 392), ages 0–95, 15 % with a certified chronic condition,
4 % with a remote-care filing, 2 % with a birth in the last two years, 3 % opted out, 1 % dead,
5 % with no open enrollment. Matching runs in this one process, on one core: the rate is the
profiles matched per CPU second (``time.process_time``), for three segments compiled once each
(``rules.segments.compiled``); the baselines are a loop that calls a predicate doing nothing
(the floor of any matcher written in Python) and loading the profiles from their bytes (what a
matcher over the faust table would pay first, per profile).

With the database (default; ``CHS_DATABASE_URL``, a database ``chs_push_bench`` made and dropped
for the run), the profiles are written to the projection as the processor writes them (a
thousand rows a statement: the rate in rows/s) and each segment's preview (one count and the
first ten ids, ``handlers.handle_preview``) is timed: previews/s and ms each, and the matched
counts checked against the matcher's. Exits 1 on a difference.

The fan-out (``--fanout``, default 100,000 profiles; ``--no-fanout`` to skip): the profiles in
the projection, one broadcast to all of Shandong fanned out by the worker's code
(``handlers.handle_fan_out_page``, 500 a page: the targets, a ``NoticeRequested`` each in the
outbox, the cursor; one transaction a page) as fast as it goes, in notices/s against the
configured pace (``CHS_PUSH_FANOUT_PER_SECOND``) and against a baseline in the same run: a bare
``INSERT`` of the same rows, 500 a statement. Then a few seconds of a second broadcast through
``fanout.FanOut`` at the configured pace: the rate it keeps. Exits 1 when the outbox does not
hold exactly one notice per target.
"""

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chs_events.db import connect, create_pool, ensure_database, migrate, migration_folders
from chs_events.settings import PlatformSettings, dsn_for_database
from chs_events.unit_of_work import UnitOfWork
from chs_push import handlers, repository
from chs_push.commands import FanOutPage, PreviewSegment
from chs_push.fanout import FanOut
from chs_push.model import Campaign
from chs_push.rules import conditions
from chs_push.rules.profile import Enrollment, Filing, Profile, dump, load
from chs_push.rules.segments import Predicate, Segment, compiled
from chs_push.settings import PushSettings

CITIES = [f"37{n:02d}" for n in range(1, 18) if n != 12]  # Shandong's 16 prefecture-level cities
TODAY = date(2026, 11, 20)
SEGMENTS: dict[str, Segment] = {
    "Qingdao employees": Segment(region_prefix="3702", insured_types=["310"]),
    "diabetics 40–65, circulatory or endocrine": Segment(
        age_min=40, age_max=65, conditions=["circulatory", "endocrine"]
    ),
    "new mothers of Jinan (180 days)": Segment(
        region_prefix="3701", sex="F", maternity_within_days=180
    ),
}
CONDITION_CODES = sorted(conditions.CODES)
FILINGS = ("relocated_retiree", "long_term_resident", "referral", "emergency")
DATABASE = "chs_push_bench"


def synthetic(count: int, seed: int = 20261120) -> list[Profile]:
    rng = random.Random(seed)
    profiles = []
    for n in range(count):
        region = rng.choice(CITIES) + f"{rng.randrange(1, 20):02d}"
        born = TODAY - timedelta(days=rng.randrange(0, 95 * 365))
        sex = rng.choice("MF")
        insutype = "310" if rng.random() < 0.7 else "390"
        enrollments = (
            ()
            if rng.random() < 0.05
            else (
                Enrollment(
                    f"EN{n}",
                    insutype,
                    region[:4] + "00",
                    date(2015, 1, 1),
                    f"E{rng.randrange(10_000)}" if insutype == "310" else None,
                ),
            )
        )
        held = (
            tuple(
                (f"C{n}-{k}", code)
                for k, code in enumerate(rng.sample(CONDITION_CODES, rng.randrange(1, 3)))
            )
            if rng.random() < 0.15
            else ()
        )
        filings = (
            (Filing(f"F{n}", rng.choice(FILINGS), "110105", date(2025, 1, 1), None),)
            if rng.random() < 0.04
            else ()
        )
        births = (
            ((f"A{n}", TODAY - timedelta(days=rng.randrange(730))),)
            if sex == "F" and rng.random() < 0.04
            else ()
        )
        profiles.append(
            Profile(
                f"p{n:032x}",
                revision=1,
                sex=sex,
                birth_date=born,
                home_region=region,
                enrollments=enrollments,
                date_of_death=TODAY - timedelta(days=30) if rng.random() < 0.01 else None,
                conditions=held,
                filings=filings,
                allowances=births,
                opted_out=rng.random() < 0.03,
                preference_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    return profiles


def cpu_rate(work: Callable[[], int], count: int, seconds: float) -> tuple[float, int]:
    """Items per CPU second of ``work`` (``count`` items a call), run for at least
    ``seconds``; and what the last call returned."""
    runs, result = 0, 0
    start = time.process_time()
    while True:
        result = work()
        runs += 1
        spent = time.process_time() - start
        if spent >= seconds:
            return runs * count / spent, result


def counting(predicate: Predicate, profiles: list[Profile]) -> Callable[[], int]:
    return lambda: sum(1 for profile in profiles if predicate(profile))


def doing_nothing(profile: Profile) -> bool:
    return True


def matching(profiles: list[Profile], seconds: float) -> tuple[list[list[str]], dict[str, int]]:
    count = len(profiles)
    floor, _ = cpu_rate(counting(doing_nothing, profiles), count, seconds)
    stored = [dump(p) for p in profiles]
    loading, _ = cpu_rate(lambda: sum(1 for b in stored if load(b)), count, seconds)
    rows = [
        ["a predicate doing nothing (baseline)", f"{count:,}", f"{floor:,.0f}", "1.00"],
        ["loading the profiles' bytes (baseline)", "", f"{loading:,.0f}", f"{floor / loading:.1f}"],
    ]
    matched = {}
    for name, segment in SEGMENTS.items():
        rate, found = cpu_rate(counting(compiled(segment, TODAY), profiles), count, seconds)
        matched[name] = found
        rows.append([name, f"{found:,}", f"{rate:,.0f}", f"{floor / rate:.1f}"])
    return rows, matched


async def previews(
    profiles: list[Profile], matched: dict[str, int], repeats: int
) -> tuple[list[list[str]], bool]:
    settings = PlatformSettings()
    await ensure_database(settings.database_url, DATABASE)
    pool = await create_pool(dsn_for_database(settings.database_url, DATABASE), max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, migration_folders("chs_push"))
            await conn.execute("truncate profiles")
            started = time.perf_counter()
            for start in range(0, len(profiles), 1000):
                await repository.upsert_profiles(conn, profiles[start : start + 1000])
            written = len(profiles) / (time.perf_counter() - started)
            await conn.execute("analyze profiles")
            rows = [["projection upsert (1,000 rows a statement)", f"{written:,.0f} rows/s", ""]]
            same = True
            for name, segment in SEGMENTS.items():
                command = PreviewSegment(segment, TODAY, 10)
                preview = await handlers.handle_preview(conn, command)
                same &= preview.count == matched[name]
                started = time.perf_counter()
                for _ in range(repeats):
                    await handlers.handle_preview(conn, command)
                each = (time.perf_counter() - started) / repeats
                rows.append([f"preview: {name}", f"{1 / each:,.1f}/s", f"{each * 1000:,.1f} ms"])
                if preview.count != matched[name]:
                    rows[-1].append(f"count {preview.count:,} ≠ {matched[name]:,}")
        return rows, same
    finally:
        await pool.close()
        server = await connect(settings.database_url)
        try:
            await server.execute(f'drop database if exists "{DATABASE}" with (force)')
        finally:
            await server.close()


def broadcast(campaign_id: str) -> Campaign:
    """A broadcast to every enrolled person of Shandong, running (matched as of TODAY)."""
    return Campaign(
        campaign_id=campaign_id,
        template_id="general.resident_contribution_period",
        kind="broadcast",
        segment=Segment(region_prefix="37"),
        params={"year": "2027", "deadline": "2026年12月31日"},
        region="370000",
        purpose="bench",
        created_by="bench",
        created_at=datetime.now(UTC),
        status="running",
        as_of=TODAY,
    )


async def fanouts(count: int, paced_seconds: float) -> tuple[list[list[str]], bool]:
    settings = PushSettings()
    name = DATABASE + "_fanout"
    await ensure_database(settings.database_url, name)
    pool = await create_pool(dsn_for_database(settings.database_url, name), max_size=3)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, migration_folders("chs_push"))
            await conn.execute("truncate profiles, campaign_targets, campaigns, outbox cascade")
            profiles = synthetic(count, seed=99)
            for start in range(0, count, 1000):
                await repository.upsert_profiles(conn, profiles[start : start + 1000])
            await conn.execute("analyze profiles")
            ids = sorted(
                p.person_id for p in profiles if compiled(Segment(region_prefix="37"), TODAY)(p)
            )

            # the baseline: the same rows, a bare insert of 500 a statement
            await conn.execute("create temporary table bare (person_id text, notice_id text)")
            started = time.perf_counter()
            for start in range(0, len(ids), 500):
                page = ids[start : start + 500]
                await conn.execute(
                    "insert into bare select * from unnest($1::text[], $2::text[])", page, page
                )
            bare = len(ids) / (time.perf_counter() - started)

            campaign = broadcast("cmp-bench-1")
            await repository.insert_campaign(conn, campaign)
            started = time.perf_counter()
            written = 0
            while True:
                uow = UnitOfWork(conn, source="/chs/push", correlation_id=campaign.campaign_id)
                written += await handlers.handle_fan_out_page(
                    uow, FanOutPage(campaign.campaign_id, 500)
                )
                status = await conn.fetchval(
                    "select status from campaigns where campaign_id = $1", campaign.campaign_id
                )
                if status != "running":
                    break
            rate = written / (time.perf_counter() - started)
            outboxed = await conn.fetchval(
                "select count(*) from outbox where topic = 'chs.notices.requests'"
            )
            same = written == len(ids) == outboxed

            await repository.insert_campaign(conn, broadcast("cmp-bench-2"))
        # the steady rate: the notices after the first page (a page goes at once, the pace
        # then holds the next ones back) over the time from the first page to the last
        fan = FanOut(pool, settings)
        first = (await fan.round()).notices
        started = time.perf_counter()
        paced = 0
        while time.perf_counter() - started < paced_seconds:
            paced += (await fan.round()).notices
        paced_rate = paced / (time.perf_counter() - started)
        paced += first
        pace = settings.push_fanout_per_second
        rows = [
            [
                "a bare INSERT of the rows (baseline)",
                f"{len(ids):,}",
                f"{bare:,.0f}",
                f"{bare / pace:,.1f}",
                "1.00",
            ],
            [
                "fan-out: targets + outbox + cursor, unpaced",
                f"{written:,}",
                f"{rate:,.0f}",
                f"{rate / pace:,.1f}",
                f"{rate / bare:,.2f}",
            ],
            [
                f"fan-out at the configured pace ({pace:,.0f}/s), {paced_seconds:.0f} s",
                f"{paced:,}",
                f"{paced_rate:,.0f}",
                f"{paced_rate / pace:,.2f}",
                f"{paced_rate / bare:,.3f}",
            ],
        ]
        if not same:
            rows.append([f"outbox {outboxed:,} ≠ targets {written:,} ≠ matches {len(ids):,}"])
        return rows, same
    finally:
        await pool.close()
        server = await connect(settings.database_url)
        try:
            await server.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await server.close()


def table(header: list[str], rows: list[list[str]]) -> str:
    width = max(len(r) for r in [header, *rows])
    cells = [[*r, *[""] * (width - len(r))] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(width)]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds a row, at least")
    parser.add_argument("--repeats", type=int, default=5, help="previews timed a segment")
    parser.add_argument("--no-database", action="store_true", help="matching only")
    parser.add_argument("--fanout", type=int, default=100_000, help="profiles of the broadcast")
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    parser.add_argument("--no-fanout", action="store_true")
    options = parser.parse_args()
    profiles = synthetic(options.profiles)
    rows, matched = matching(profiles, options.seconds)
    print(f"\nSegment matching, {len(profiles):,} profiles, one core (CPU time), as of {TODAY}")
    print(table(["", "matched", "profiles/s", "CPU × the baseline's"], rows))
    if options.no_database:
        return 0
    sql, same = asyncio.run(previews(profiles, matched, options.repeats))
    print(f"\nThe SQL projection, {len(profiles):,} rows")
    print(table(["", "rate", "each"], sql))
    if options.no_fanout:
        return 0 if same else 1
    fan, fanned = asyncio.run(fanouts(options.fanout, options.paced_seconds))
    print(f"\nThe fan-out of one broadcast (all of Shandong), {options.fanout:,} profiles")
    print(table(["", "notices", "notices/s", "× the configured pace", "× the baseline"], fan))
    return 0 if same and fanned else 1


if __name__ == "__main__":
    sys.exit(main())
