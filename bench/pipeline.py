"""The account-notice pipeline end to end on the running platform, against a raw Kafka
passthrough of the same number of messages on the same broker, in the same run.

    make up && make bench-pipeline     (or: python bench/pipeline.py [--events 3000])

One business event is a paid contribution: ``POST /contributions`` (enrollment) → its outbox →
``chs.enrollment.events`` → accounts credits the personal account → its outbox →
``chs.account.events`` → account-notices → ``chs.notices.requests`` → notification queues the
message → the dispatcher hands the SMS ``account.credited`` to the gateway, which records it.
The latency of an event is HTTP request sent → SMS recorded by the gateway.

Set-up (not measured): a new employer adds new employees (fresh people each run) and the
platform sends their enrollment SMS. Then each phase pays one month's contribution for each of
its people at a fixed offered rate (50/s, 200/s, 1,000/s, then flat out) and waits for every
``account.credited`` SMS. Printed: per phase the throughput and p50/p95/p99 latency, and the
raw passthrough (aiokafka consume → idempotent produce with acks=all, commit per batch) of as
many messages, with the ratio; CPU seconds per 1,000 events of each platform process (from
``/proc``) in the flat-out phase; each process's resident memory at rest.
"""

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.common
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo_support import ENROLLMENT, TAX_COLLECTION

from bench.common import STAFF_START, client, employees, token, until_quiet
from chs_events.settings import PlatformSettings, dsn_for_database

CREDITED = "account.credited"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Phase:
    label: str
    rate: float | None  # offered events per second; None: flat out
    events: int
    in_flight: int = 64


@dataclass
class PhaseResult:
    phase: Phase
    seconds: float
    latencies: list[float]
    passthrough_seconds: float = 0.0
    cpu: dict[str, float] | None = None
    retried: int = 0  # contributions answered 503 (the API overloaded) and sent again

    @property
    def throughput(self) -> float:
        return self.phase.events / self.seconds


# --- the platform's processes -------------------------------------------------------------------


def platform_processes(prefix: str) -> dict[int, str]:
    """pid → name (``enrollment-worker``, ``progress-notices-worker``, …) of every process of
    the platform on the topic prefix ``prefix`` (``python -m chs_<service> <command>``; test
    runs use prefixes of their own)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"CHS_TOPIC_PREFIX={prefix}".encode() not in environment and (
            prefix or any(v.startswith(b"CHS_TOPIC_PREFIX=") for v in environment)
        ):
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if len(words) >= 4 and words[1] == "-m" and words[2].startswith("chs_"):
            service = words[2].removeprefix("chs_").replace("_", "-")
            found[int(entry.name)] = f"{service}-{words[3]}"
    return found


def infrastructure_processes() -> dict[int, str]:
    """The broker, the database server and this driver: their CPU is part of each event's."""
    found = {os.getpid(): "(this driver)"}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            found[int(entry.name)] = "(postgresql)"
        elif b"kafka.Kafka" in argv:
            found[int(entry.name)] = "(kafka broker)"
    return found


def cpu_seconds(pids: dict[int, str]) -> dict[str, float]:
    used: dict[str, float] = defaultdict(float)
    for pid, name in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[name] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return used


def resident_mib(pids: dict[int, str]) -> dict[str, float]:
    rss: dict[str, float] = defaultdict(float)
    for pid, name in pids.items():
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
        rss[name] += pages * PAGE / 2**20
    return rss


# --- set-up ---------------------------------------------------------------------------------------


# --- a phase ------------------------------------------------------------------------------------


async def run_phase(
    phase: Phase,
    http: aiohttp.ClientSession,
    collector: str,
    staff: list[tuple[str, str]],
    period: str,
    notification: asyncpg.Pool,
) -> PhaseResult:
    people = staff[: phase.events]
    headers = {"Authorization": f"Bearer {collector}", "Content-Type": "application/json"}
    sent_at: dict[str, datetime] = {}
    failures: list[str] = []
    retried: list[str] = []  # the people whose contribution was answered 503 and sent again
    slots = asyncio.Semaphore(phase.in_flight)
    started = time.perf_counter()
    begun = datetime.now(UTC)

    async def pay(index: int, person_id: str, enrollment_id: str) -> None:
        if phase.rate is not None:
            await asyncio.sleep(max(0.0, started + index / phase.rate - time.perf_counter()))
        async with slots:
            sent_at[person_id] = datetime.now(UTC)
            body = orjson.dumps(
                {
                    "payment_id": f"BENCH-{enrollment_id}-{period}",
                    "enrollment_id": enrollment_id,
                    "period": period,
                    "amount_fen": 96_000,
                    "employer_part_fen": 64_000,
                    "personal_part_fen": 32_000,
                }
            )
            for _attempt in range(5):  # idempotent by payment_id: a retry answers 200
                try:
                    async with http.post(
                        f"{ENROLLMENT}/contributions", data=body, headers=headers
                    ) as answer:
                        status, text = answer.status, await answer.text()
                        retry_after = float(answer.headers.get("Retry-After", 1))
                except aiohttp.ClientError as error:  # a keep-alive connection closed
                    answer_error = repr(error)
                    continue
                if status == 503:  # overloaded: a client waits as told, then asks again
                    answer_error = f"{status} {text[:200]}"
                    retried.append(person_id)
                    await asyncio.sleep(retry_after)
                    continue
                if status not in (200, 201):
                    failures.append(f"{status} {text[:200]}")
                return
            failures.append(answer_error)

    if phase.rate is None:
        queue = list(enumerate(people))

        async def worker() -> None:
            while queue:
                index, (person_id, enrollment_id) = queue.pop(0)
                await pay(index, person_id, enrollment_id)

        await asyncio.gather(*(worker() for _ in range(phase.in_flight)))
    else:
        await asyncio.gather(*(pay(i, p, e) for i, (p, e) in enumerate(people)))
    if failures:
        raise RuntimeError(f"{len(failures)} contributions refused, e.g. {failures[0]}")

    wanted = {person_id for person_id, _ in people}
    deadline = time.monotonic() + 120 + phase.events / 20
    while True:
        rows = await notification.fetch(
            """select m.person_id, g.accepted_at from messages m
               join local_gateway_sms g using (message_id)
               where m.template_id = $1 and m.created_at >= $2 and m.person_id = any($3)""",
            CREDITED,
            begun,
            list(wanted),
        )
        if len(rows) >= len(wanted) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if len(rows) < len(wanted):
        raise RuntimeError(f"{phase.label}: {len(rows)} of {len(wanted)} SMS within the time-box")
    recorded = {row["person_id"]: row["accepted_at"] for row in rows}
    latencies = [(recorded[p] - sent_at[p]).total_seconds() for p in wanted]
    last = max(recorded.values())
    return PhaseResult(phase, (last - begun).total_seconds(), latencies, retried=len(retried))


# --- the raw passthrough --------------------------------------------------------------------------


async def passthrough(bootstrap: str, count: int, size: int = 700) -> float:
    """Seconds for an aiokafka consume → idempotent produce (acks=all) → commit per batch of
    ``count`` messages between two new topics of six partitions."""
    run = uuid.uuid4().hex[:8]
    source, target = f"bench.passthrough.{run}.in", f"bench.passthrough.{run}.out"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t, 6, 1) for t in (source, target)])
    try:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
        )
        await producer.start()
        payload = os.urandom(size // 2).hex().encode()
        deliveries = [
            await producer.send(source, key=f"p{n % 997:032x}".encode(), value=payload)
            for n in range(count)
        ]
        await asyncio.gather(*deliveries)
        consumer = AIOKafkaConsumer(
            source,
            bootstrap_servers=bootstrap,
            group_id=f"bench-passthrough-{run}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=500,
        )
        await consumer.start()
        moved, started = 0, time.perf_counter()
        while moved < count:
            batches = await consumer.getmany(timeout_ms=500)
            forwarded = [
                await producer.send(target, key=r.key, value=r.value, headers=r.headers)
                for records in batches.values()
                for r in records
            ]
            await asyncio.gather(*forwarded)
            if batches:
                await consumer.commit(
                    {tp: records[-1].offset + 1 for tp, records in batches.items()}
                )
            moved += len(forwarded)
        elapsed = time.perf_counter() - started
        await consumer.stop()
        await producer.stop()
        return elapsed
    finally:
        await admin.delete_topics([source, target])
        await admin.close()


# --- the table ------------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def print_tables(results: list[PhaseResult], rest: dict[str, float], events: int) -> None:
    print(
        f"\n{'phase':14} {'events':>7} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'raw msg/s':>10} {'ratio':>7} {'503s':>6}"
    )
    print("-" * 86)
    for r in results:
        raw = r.phase.events / r.passthrough_seconds
        print(
            f"{r.phase.label:14} {r.phase.events:7d} {r.throughput:9.0f} "
            f"{percentile(r.latencies, 50) * 1000:8.0f} {percentile(r.latencies, 95) * 1000:8.0f} "
            f"{percentile(r.latencies, 99) * 1000:8.0f} {raw:10.0f} {r.throughput / raw:7.3f} "
            f"{r.retried:6d}"
        )
    flat = results[-1]
    cpu = flat.cpu or {}
    print(f"\n{'process':28} {'CPU s / 1,000 events':>21} {'resident MiB at rest':>21}")
    print("-" * 72)
    for name in sorted(set(cpu) | set(rest), key=lambda n: -cpu.get(n, 0.0)):
        per_thousand = cpu.get(name, 0.0) * 1000 / flat.phase.events
        print(f"{name:28} {per_thousand:21.2f} {rest.get(name, 0.0):21.0f}")
    print("-" * 72)
    platform = [name for name in cpu if not name.startswith("(")]
    for label, names in (("the platform's processes", platform), ("everything measured", cpu)):
        total_cpu = sum(cpu[name] for name in names) * 1000 / flat.phase.events
        print(f"{label:28} {total_cpu:21.2f} {sum(rest.values()):21.0f}")
    print(
        f"\n(flat out: {flat.phase.in_flight} requests in flight; latency = HTTP request sent → "
        f"SMS recorded by the gateway; raw = aiokafka passthrough of as many messages; 503s = "
        f"contributions answered 503 while the API was overloaded, sent again after Retry-After)"
    )


async def main(events: int, phases: list[Phase]) -> None:
    settings = PlatformSettings()
    pids = platform_processes(settings.topic_prefix)
    if not pids:
        sys.exit("no platform processes found: make up first")
    rest = resident_mib(pids)
    notification = await asyncpg.create_pool(
        dsn_for_database(settings.database_url, "chs_notification"), min_size=1, max_size=2
    )
    needed = max(p.events for p in phases)
    print(f"set-up: {needed} new employees and their enrollment SMS …", flush=True)
    async with client() as http:
        staff = await employees(http, needed)
    await until_quiet(notification)
    results = []
    for month, phase in enumerate(phases, start=1):
        print(f"phase {phase.label}: {phase.events} contributions …", flush=True)
        collector = token(TAX_COLLECTION)
        measured = pids | infrastructure_processes()  # PostgreSQL forks one per connection
        before = cpu_seconds(measured)
        # A lighter client than httpx for the load itself: the driver shares the two cores.
        # A new one per phase: the APIs close connections idle for 5 s.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128)) as http:
            result = await run_phase(
                phase, http, collector, staff, f"{STAFF_START.year}{month:02d}", notification
            )
        after = cpu_seconds(measured | infrastructure_processes())
        result.cpu = {name: after[name] - before.get(name, 0.0) for name in after}
        await until_quiet(notification)
        result.passthrough_seconds = await passthrough(settings.kafka_bootstrap, phase.events)
        results.append(result)
    await notification.close()
    print_tables(results, rest, events)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events of the flat-out phase")
    parser.add_argument("--seconds", type=float, default=10, help="length of each rated phase")
    arguments = parser.parse_args()
    rated = [
        Phase(f"{rate}/s", rate, min(arguments.events, int(rate * arguments.seconds)))
        for rate in (50, 200, 1000)
    ]
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a new topic's leader elections
    asyncio.run(main(arguments.events, [*rated, Phase("flat out", None, arguments.events)]))
