"""The fraud processor on the local broker: 10,000 death records against a year of benefits,
with a raw consume of the same stream as the baseline, on each table store.

    make bench-fraud      (or: python bench/fraud.py [--factor 0.02] [--deaths 10000]
                                                     [--stores rocksdb,memory])

The field's mix of a person's year (Shandong's day, ~100 M insured, as bench/province_day.py
gives it, per person): 2.04 settlements (5 % inpatient; 1 % reversed), 7.3 personal-account
debits at pharmacies, 0.015 manual claims (submitted and paid), 0.006 maternity allowances:
~9.4 benefit events a person a year, 9.4 M for the issue's 1,000,000 people. ``--factor``
scales the people (default 0.02: 20,000 people, ~190 K events); the 10,000 deaths are not
scaled (at most half the people): what a death costs (one look-up and a sweep of that person's
~10 benefits) does not depend on how many people there are. 5 % of the dead have benefits after
their death (1 to 3 debits with the card, or a settlement), half of those in the year (swept
when the death arrives) and half after the death record (matched on arrival).

Per store, on a topic prefix of its own: the year is generated and published in chunks of
people (1,000,000 people's year does not fit in memory), read once by a plain aiokafka consumer
(no group commits, no parsing, no state: the baseline), then the processor (a real
``python -m chs_fraud processor`` process, a fresh group and data directory) started and timed
until its group has committed the whole year (``load``); then the death records and the later
benefits are published and timed until every expected signal is on ``chs.fraud.signals``
(``match``). The processor is then stopped and started again: the recovery time is what it
logs as ``state recovered``. State: the RocksDB directory's size on disk, and the process's
resident memory (RSS) after the load. Exits 1 unless every run found exactly the expected signals.
"""

import argparse
import asyncio
import importlib.util
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import terminate
from chs_events.admin import delete_topics, ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.account import AccountDebited
from chs_events.events.base import Event
from chs_events.events.feeds import DeathRecorded
from chs_events.events.fraud import FraudSignalRaised
from chs_events.events.maternity import MaternityAllowancePaid
from chs_events.events.reimbursement import (
    ClaimPaid,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
)
from chs_events.kafka import create_producer
from chs_events.settings import PlatformSettings
from chs_events.topics import BY_NAME, FRAUD_SIGNALS, dead_letter_spec
from chs_fraud import rules
from chs_fraud.app import CONSUMER, STATE_TOPICS

REPO = Path(__file__).resolve().parents[1]
YEAR = date(2026, 1, 1)
PER_PERSON_YEAR = {"settlement": 2.04, "debit": 7.3, "claim": 0.015, "maternity": 0.006}
INPATIENT, REVERSED, FRAUDULENT = 0.05, 0.01, 0.05
HOSPITALS = ("H37020200017", "H37020000001", "H37021200031")
Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]
CHUNK = 5_000  # people generated, ordered and published at a time
SEED = 20260310
PROGRESS_SECONDS = 300


@dataclass
class Stream:
    """What ``generate`` made: the benefits of the year are published as they are made (1,000,000
    people's would not fit in memory), the rest is kept."""

    year: int = 0  # benefit events of the year
    after: list[Record] = field(default_factory=list)  # the deaths, then benefits after them
    expected: set[tuple[str, str]] = field(default_factory=set)  # (person, benefit event id)
    deaths: int = 0


def _visit(person: str, day: date, rng: random.Random, inpatient: bool) -> dict[str, Any]:
    total = rng.randrange(20_000, 2_000_000) if inpatient else rng.randrange(5_000, 80_000)
    eligible = total * 4 // 5
    return {
        "person_id": person,
        "institution_code": rng.choice(HOSPITALS),
        "institution_name": "青岛市市立医院",
        "institution_level": 3,
        "institution_region": "370202",
        "visit_type": "inpatient" if inpatient else "outpatient",
        "admission_date": day,
        "discharge_date": day + timedelta(days=rng.randrange(2, 12)) if inpatient else None,
        "discharge_diagnoses": [rng.choice(("J18.9", "K35.8", "I10", "E11.9", "J06.9"))],
        "total_fen": total,
        "eligible_fen": eligible,
        "ineligible_fen": total - eligible,
        "invoice_no": "INV" + secrets.token_hex(6),
    }


def settlement(person: str, day: date, rng: random.Random) -> SettlementCompleted:
    visit = _visit(person, day, rng, rng.random() < INPATIENT)
    fund = visit["eligible_fen"] * 3 // 4
    return SettlementCompleted(
        **visit,
        settlement_id="S" + secrets.token_hex(8),
        insutype="310",
        pooled_fund_fen=fund,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        personal_cash_fen=visit["total_fen"] - fund,
        settled_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
    )


def debit(person: str, day: date, rng: random.Random) -> AccountDebited:
    return AccountDebited(
        person_id=person,
        account_id="A" + person[1:9],
        transaction_id="T" + secrets.token_hex(8),
        amount_fen=rng.randrange(500, 30_000),
        balance_after_fen=100_000,
        posted_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
        merchant_code="M370202000001",
        merchant_kind="pharmacy",
        spender_person_id=person,
    )


def year_of(person: str, rng: random.Random) -> list[tuple[date, Event]]:
    """A person's benefits in the year, at the field's rates."""
    found: list[tuple[date, Event]] = []

    def days(rate: float) -> list[date]:
        count = int(rate) + (rng.random() < rate - int(rate))
        return [YEAR + timedelta(days=rng.randrange(365)) for _ in range(count)]

    for day in days(PER_PERSON_YEAR["settlement"]):
        settled = settlement(person, day, rng)
        found.append((day, settled))
        if rng.random() < REVERSED:
            found.append((day, reversal(settled)))
    found += [(day, debit(person, day, rng)) for day in days(PER_PERSON_YEAR["debit"])]
    for day in days(PER_PERSON_YEAR["claim"]):
        submitted = ClaimSubmitted(
            **_visit(person, day, rng, False),
            claim_id="C" + secrets.token_hex(8),
            submitted_on=day,
        )
        paid_on = day + timedelta(days=20)
        paid = ClaimPaid(
            person_id=person,
            claim_id=submitted.claim_id,
            invoice_no=submitted.invoice_no,
            amount_fen=submitted.eligible_fen // 2,
            paid_on=paid_on,
            payment_reference="PAY" + secrets.token_hex(4),
        )
        found += [(day, submitted), (paid_on, paid)]
    for day in days(PER_PERSON_YEAR["maternity"]):
        found.append(
            (
                day,
                MaternityAllowancePaid(
                    person_id=person,
                    allowance_id="MA" + secrets.token_hex(6),
                    amount_fen=1_200_000,
                    paid_on=day,
                    payment_reference="PAY" + secrets.token_hex(4),
                ),
            )
        )
    return found


def reversal(settled: SettlementCompleted) -> SettlementReversed:
    return SettlementReversed(
        person_id=settled.person_id,
        settlement_id=settled.settlement_id,
        invoice_no=settled.invoice_no,
        institution_name=settled.institution_name,
        total_fen=settled.total_fen,
        pooled_fund_fen=settled.pooled_fund_fen,
        critical_illness_fen=settled.critical_illness_fen,
        medical_assistance_fen=settled.medical_assistance_fen,
        reason_code="settlement_data_error",
        reversed_at=settled.settled_at,
    )


def record(event: Event) -> tuple[Record, str]:
    envelope = Envelope(event, source=f"/chs/{event.producer}")
    r = envelope.to_record()
    return (event.topic, r.key, r.value, r.headers), envelope.id


def paid_after(event: Event, death: date) -> bool:
    """Whether the rules see the benefit as after the death (a reversal or a claim submission
    pays nothing)."""
    match event:
        case SettlementCompleted():
            return event.admission_date > death
        case AccountDebited():
            return event.posted_at.date() > death
        case MaternityAllowancePaid():
            return event.paid_on > death
    return False  # claims: the bench's claims are paid for care before any death


def generate(people: int, stream: Stream, seed: int) -> Iterator[list[Record]]:
    """The year in chunks of ``CHUNK`` people, each chunk's events in the order of their days
    (so each person's); the first ``stream.deaths`` people die in it."""
    rng = random.Random(seed)
    for first in range(0, people, CHUNK):
        yield _chunk(range(first, min(people, first + CHUNK)), stream, rng)


def _chunk(people: range, stream: Stream, rng: random.Random) -> list[Record]:
    timeline: list[tuple[date, Record]] = []
    for n in people:
        person = "p" + secrets.token_hex(16)
        benefits = year_of(person, rng)
        dies = n < stream.deaths
        if dies:
            death = YEAR + timedelta(days=rng.randrange(30, 335))
            reversed_ids = {
                e.settlement_id for _, e in benefits if isinstance(e, SettlementReversed)
            }
            # the dead draw nothing after their death, unless someone else does
            claimed = {
                e.claim_id for d, e in benefits if isinstance(e, ClaimSubmitted) and d <= death
            }
            benefits = [
                (d, e)
                for d, e in benefits
                if d <= death or (isinstance(e, ClaimPaid) and e.claim_id in claimed)
            ]
            later: list[tuple[date, Event]] = []
            if rng.random() < FRAUDULENT:
                for _ in range(rng.randrange(1, 4)):
                    day = death + timedelta(days=rng.randrange(1, 25))
                    later.append((day, debit(person, day, rng)))
            swept = rng.random() < 0.5  # in the year, swept when the death arrives
            for day, event in benefits:
                r, event_id = record(event)
                timeline.append((day, r))
                undone = (
                    isinstance(event, SettlementCompleted) and event.settlement_id in reversed_ids
                )
                if paid_after(event, death) and not undone:
                    stream.expected.add((person, event_id))
            death_record, _ = record(
                DeathRecorded(
                    person_id=person,
                    record_id="D" + secrets.token_hex(8),
                    date_of_death=death,
                    source="civil_affairs",
                    region_code="370202",
                )
            )
            stream.after.insert(0, death_record)
            for day, event in later:
                r, event_id = record(event)
                stream.expected.add((person, event_id))
                (timeline.append((day, r)) if swept else stream.after.append(r))
        else:
            timeline += [(day, record(event)[0]) for day, event in benefits]
    timeline.sort(key=lambda item: item[0])  # stable: a person's events keep their order
    stream.year += len(timeline)
    return [r for _, r in timeline]


async def publish(bootstrap: str, prefix: str, chunks: Iterable[list[Record]]) -> float:
    producer = create_producer(PlatformSettings(kafka_bootstrap=bootstrap), "bench-fraud")
    await producer.start()
    started = time.perf_counter()
    try:
        for records in chunks:
            pending = [
                await producer.send(prefix + topic, key=key, value=value, headers=headers)
                for topic, key, value, headers in records
            ]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_consume(bootstrap: str, prefix: str, count: int) -> float:
    """Seconds for a plain consumer (no group commits, no parsing) to read ``count`` records
    of the input topics."""
    consumer = AIOKafkaConsumer(
        *(prefix + t for t in rules.SOURCE_TOPICS),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=1000,
    )
    await consumer.start()
    try:
        read, started = 0, time.perf_counter()
        while read < count:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                read += len(batch)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def lag(bootstrap: str, group: str, prefix: str) -> int:
    """Records of the inputs the group has not committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [TopicPartition(prefix + t, p) for t in rules.SOURCE_TOPICS for p in range(6)]
        ends = await consumer.end_offsets(partitions)
        return sum(
            end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
            for tp, end in ends.items()
        )
    finally:
        await consumer.stop()
        await admin.close()


async def signals_on(bootstrap: str, prefix: str, consumer: AIOKafkaConsumer) -> set:
    found = set()
    for batch in (await consumer.getmany(timeout_ms=200)).values():
        for r in batch:
            event = Envelope.from_record(r.key, r.value, r.headers).event
            assert isinstance(event, FraudSignalRaised)
            if event.kind == "benefit_after_death":  # (a chance near-duplicate bill besides)
                found.add((event.person_id, event.benefits[0].event_id))
    return found


@dataclass
class Run:
    store: str
    year: int = 0
    events: int = 0
    raw_s: float = 0.0
    load_s: float = 0.0
    match_s: float = 0.0
    signals: int = 0
    expected: int = 0
    disk_mb: float = 0.0
    rss_mb: float = 0.0
    recovery_s: float = 0.0


class Processor:
    def __init__(self, bootstrap: str, prefix: str, store: str, data: Path, log: Path) -> None:
        """The processor as a process of its own, its log in ``log`` (one per start)."""
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "services/fraud"), *sys.path]),
            "CHS_KAFKA_BOOTSTRAP": bootstrap,
            "CHS_TOPIC_PREFIX": prefix,
            "CHS_DATA_DIR": str(data),
            "CHS_STORE": store,
            "CHS_LOG_LEVEL": "INFO",
        }
        self.log = log
        with open(log, "wb") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "chs_fraud", "processor"],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def recovered(self, timeout: float = 900) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if '"state recovered"' in line:
                    return float(json.loads(line)["seconds_since_start"])
            assert self.popen.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.2)
        raise TimeoutError("the processor did not start")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.popen.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kb / 1024

    def stop(self) -> None:
        terminate(self.popen)


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


async def run_store(bootstrap: str, store: str, people: int, deaths: int, work: Path) -> Run:
    """The year generated and published (on topics of the store's own), read once raw (the
    baseline), then through the processor on ``store``; the deaths matched; a restart."""
    prefix = f"bench.fraud.{store}.{secrets.token_hex(3)}."
    specs = [
        s
        for name in (*rules.SOURCE_TOPICS, FRAUD_SIGNALS)
        for s in (BY_NAME[name], dead_letter_spec(BY_NAME[name]))
    ]
    await ensure_topics(bootstrap, prefix, [*specs, *STATE_TOPICS])
    stream = Stream(deaths=deaths)
    started = time.perf_counter()
    await publish(bootstrap, prefix, generate(people, stream, seed=SEED))
    print(
        f"{store}: {people:,} people, a year of {stream.year:,} benefit events, {deaths:,} "
        f"deaths and {len(stream.after) - deaths:,} benefits after them; "
        f"{len(stream.expected):,} signals expected (generated and published in "
        f"{time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    run = Run(
        store,
        year=stream.year,
        events=stream.year + len(stream.after),
        expected=len(stream.expected),
    )
    run.raw_s = await raw_consume(bootstrap, prefix, stream.year)
    data, log = work / f"{store}-data", work / f"{store}.log"
    shutil.rmtree(data, ignore_errors=True)  # a fresh store for the fresh topics
    group = prefix + CONSUMER
    started = time.perf_counter()
    processor = Processor(bootstrap, prefix, store, data, log)
    try:
        processor.recovered()
        told = time.perf_counter()
        while (behind := await lag(bootstrap, group, prefix)) > 0:
            if time.perf_counter() - told >= PROGRESS_SECONDS:  # a long load says how it goes
                told, done = time.perf_counter(), stream.year - behind
                print(
                    f"  {store}: {done:,} of {stream.year:,} loaded, "
                    f"{done / (told - started):.0f} events/s",
                    flush=True,
                )
            await asyncio.sleep(0.5)
        run.load_s = time.perf_counter() - started
        run.rss_mb = processor.rss_mb()
        reader = AIOKafkaConsumer(
            prefix + FRAUD_SIGNALS,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
        )
        await reader.start()
        found: set = set()
        try:
            started = time.perf_counter()
            await publish(bootstrap, prefix, [stream.after])
            deadline = time.monotonic() + 600
            while not stream.expected <= found and time.monotonic() < deadline:
                found |= await signals_on(bootstrap, prefix, reader)
            run.match_s = time.perf_counter() - started
            await asyncio.sleep(2)
            found |= await signals_on(bootstrap, prefix, reader)
        finally:
            await reader.stop()
        run.signals = len(found)
        if found != stream.expected:
            print(
                f"  {store}: {len(found - stream.expected)} unexpected, "
                f"{len(stream.expected - found)} missing signals"
            )
            run.signals = -len(found)
    finally:
        processor.stop()
    run.disk_mb = size_mb(data)
    again = Processor(bootstrap, prefix, store, data, work / f"{store}-restart.log")
    try:
        run.recovery_s = again.recovered()
    finally:
        again.stop()
    await delete_topics(bootstrap, prefix)
    return run


async def main(factor: float, deaths: int, stores: list[str], work: Path) -> int:
    bootstrap = PlatformSettings().kafka_bootstrap
    people = max(2, round(1_000_000 * factor))
    deaths = min(deaths, people // 2)
    runs = [await run_store(bootstrap, store, people, deaths, work) for store in stores]
    print(
        f"\n{'store':8} {'events':>9} {'signals':>8} {'load s':>7} {'match s':>8} "
        f"{'events/s':>9} {'/ raw':>6} {'disk MB':>8} {'RSS MB':>7} {'recovery s':>10}"
    )
    print("-" * 91)
    for r in runs:
        raw_rate = r.year / r.raw_s
        print(f"{'raw':8} {r.year:9,} {'':>8} {r.raw_s:7.1f} {'':>8} {raw_rate:9.0f} {1:6.2f}")
        rate = r.year / r.load_s
        print(
            f"{r.store:8} {r.events:9,} {r.signals:8,} {r.load_s:7.1f} {r.match_s:8.1f} "
            f"{rate:9.0f} {rate / raw_rate:6.2f} {r.disk_mb:8.1f} {r.rss_mb:7.0f} "
            f"{r.recovery_s:10.2f}"
        )
    full = 9_400_000
    for r in runs:
        print(
            f"\n{r.store}: the full year for 1,000,000 people ({full:,} events) would load in "
            f"~{full / (r.year / r.load_s) / 60:.0f} min at this rate; the "
            f"{deaths:,} deaths matched in {r.match_s:.1f} s"
        )
    print(
        "\n(raw: a plain consumer reading the same year first; load: the processor started "
        "until its group committed the year; match: the deaths and later benefits published "
        "until every expected signal arrived; recovery: a restart until the tables are back; "
        "RSS after the load; disk: the RocksDB directory)"
    )
    return 0 if all(r.signals == r.expected for r in runs) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=0.02, help="of 1,000,000 people")
    parser.add_argument("--deaths", type=int, default=10_000)
    available = ["rocksdb"] if importlib.util.find_spec("rocksdict") else []
    parser.add_argument("--stores", default=",".join([*available, "memory"]))
    parser.add_argument("--work", type=Path, default=Path("/tmp") / "chs-bench-fraud")
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    sys.exit(
        asyncio.run(main(options.factor, options.deaths, options.stores.split(","), options.work))
    )
