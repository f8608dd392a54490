"""The accounts credit hop alone: the ledger consumer's ContributionPaid handler on the real broker
and database, against the consumer runner with a one-row handler on the same events in the same
run.

    python bench/credits.py [--events 5000] [--people 997]

N ContributionPaid events (employees of ``--people`` persons with open accounts, in a fresh
database migrated as accounts') on a topic of six partitions are consumed twice, each by a new
group: by a ``ConsumerRunner`` whose handler writes one row (the baseline, as bench/consumer.py),
then by one with the ledger's handler (lock, account, posting, balance, AccountCredited in the
outbox). Printed as a table: events/s and this process's CPU ms per event, with the ratios.
"""

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import publish_records
from bench.relay import drop, fresh_database
from chs_accounts.consumers import ledger_handlers
from chs_accounts.settings import AccountsSettings
from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner, Handler
from chs_events.db import migrate, migration_folders
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContributionPaid
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork


def person(n: int) -> str:
    return f"p{n:032x}"


async def record_effect(uow: UnitOfWork, envelope: Envelope) -> None:
    await uow.conn.execute("insert into effects values ($1)", envelope.id)


async def publish(settings: AccountsSettings, count: int, people: int) -> None:
    records = [
        Envelope(
            ContributionPaid(
                person_id=person(n % people),
                payment_id=f"BENCH-{n}",
                enrollment_id=f"e{n % people}",
                insutype="310",
                period=f"{2000 + n // people // 12:04d}{n // people % 12 + 1:02d}",
                amount_fen=96_000,
                employer_part_fen=64_000,
                personal_part_fen=32_000,
                paid_at=datetime(2026, 11, 30, 8, tzinfo=UTC),
            ),
            source="/chs/bench",
        ).to_record()
        for n in range(count)
    ]
    await publish_records(settings, ENROLLMENT_EVENTS, records, "bench-credits")


async def consume(
    settings: AccountsSettings,
    pool: asyncpg.Pool,
    name: str,
    handlers: Mapping[str, Handler],
    done: str,
    count: int,
) -> tuple[float, float]:
    """Seconds and CPU seconds (this process) until ``done`` counts ``count``."""
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=name, topics=[ENROLLMENT_EVENTS], handlers=handlers, pool=pool, settings=settings
    )
    started, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(runner.run(stop))
    while await pool.fetchval(done) < count:
        await asyncio.sleep(0.02)
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    await task
    return elapsed, used


async def main(events: int, people: int) -> None:
    prefix = f"bench-credits-{uuid.uuid4().hex[:6]}."
    settings = AccountsSettings(topic_prefix=prefix)
    await ensure_topics(settings.kafka_bootstrap, prefix, [BY_NAME[ENROLLMENT_EVENTS]])
    name, _, pool = await fresh_database(settings.database_url)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, migration_folders("chs_accounts"))
            await conn.execute("create table effects (event_id uuid primary key)")
            await conn.executemany(
                "insert into persons (person_id, birth_date) values ($1, $2)",
                [(person(n), date(1970 + n % 30, 1, 1)) for n in range(people)],
            )
            await conn.executemany(
                "insert into accounts (account_id, person_id, enrollment_id, pooling_region, "
                "opened_on) values ($1, $2, $3, '370202', '2020-01-01')",
                [(f"a{n}", person(n), f"e{n}") for n in range(people)],
            )
        await publish(settings, events, people)
        one_row = {ContributionPaid.ce_type: record_effect}
        ledger = {ContributionPaid.ce_type: ledger_handlers(settings)[ContributionPaid.ce_type]}
        base = await consume(
            settings, pool, "bench-one-row", one_row, "select count(*) from effects", events
        )
        credit = await consume(
            settings,
            pool,
            "bench-ledger",
            ledger,
            "select count(*) from ledger_transactions",
            events,
        )
    finally:
        await drop(settings.database_url, name, pool)
    print(
        f"\n{str(events) + ' ContributionPaid events':36} {'events/s':>9} {'CPU ms/ev':>9} "
        f"{'ev/s ÷ base':>11} {'CPU ÷ base':>10}"
    )
    print("-" * 80)
    for label, (seconds, cpu) in (
        ("runner, one-row handler (base)", base),
        ("runner, the ledger's credit", credit),
    ):
        print(
            f"{label:36} {events / seconds:9.0f} {cpu * 1000 / events:9.3f} "
            f"{base[0] / seconds:11.2f} {cpu / base[1]:10.2f}"
        )
    print(f"\n(broker {settings.kafka_bootstrap}; {people} accounts; CPU: this process's)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--people", type=int, default=997)
    arguments = parser.parse_args()
    os.environ.setdefault("CHS_LOG_LEVEL", "WARNING")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("chs_events").setLevel(logging.WARNING)
    asyncio.run(main(arguments.events, arguments.people))
