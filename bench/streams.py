"""The faust processors' mechanism (``chs_events.streams``) on the local broker: N account
events through the account-notice and the fraud processors, against a raw aiokafka consume →
produce passthrough of the same messages in the same run.

    python bench/streams.py [--events 20000] [--only raw,account-notices,fraud,engine]

The events are personal-account movements on ``chs.account.events`` (half credits, half
pharmacy debits, 1,000 people, each account's balances following on), what the account-notice
pipeline feeds both processors: account-notices checks each posting against its account's last
balance (a table) and asks a notice for it, the fraud processor applies the debits to its tables
(the credits it passes over unparsed). Everything is on a fresh topic prefix, published before
any reader starts.

Rows, one after the other on the same topics (each a group of its own, from offset 0):

- ``raw``: in this process, an aiokafka consumer → idempotent producer (acks=all) copying each
  record to an output topic, acknowledgements awaited and offsets committed per batch;
- ``account-notices``, ``fraud``: the real processor (``python -m chs_account_notices
  worker``, ``python -m chs_fraud processor``, each with its RocksDB store), timed from its
  partitions assigned to the last notice on ``chs.notices.requests`` (account-notices) or its
  group committed the inputs (fraud; commits every ``CHS_COMMIT_INTERVAL_SECONDS``, 2.8 s);
- ``engine``: the account notices' stateless step (``rules.notices.notices_for``, no table, no
  continuity check) on the consumer runner's engine without faust, in this process: aiokafka
  consumer → ``RecordProcessor.process_all`` (the same retries and dead letters) → the notices
  published together, acknowledged, then the offsets committed.

CPU is the process's user + system time over the same span (``/proc``), per event. Other
processes share the cores: compare the ratios of one run, not absolute numbers across runs.
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import terminate
from chs_account_notices.app import CONSUMER as NOTICES
from chs_account_notices.app import STATE_TOPIC as NOTICES_STATE
from chs_account_notices.rules import SOURCE_TOPICS, TYPES
from chs_account_notices.rules.notices import notices_for
from chs_events.admin import delete_topics, ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.account import AccountCredited, AccountDebited
from chs_events.events.base import Event
from chs_events.kafka import create_producer
from chs_events.processing import Outcome, RecordProcessor
from chs_events.settings import PlatformSettings
from chs_events.topics import (
    ACCOUNT_EVENTS,
    BY_NAME,
    FRAUD_SIGNALS,
    NOTICE_REQUESTS,
    QUALITY_SIGNALS,
)
from chs_events.topics import dead_letter_spec as dlq_spec
from chs_fraud import rules as fraud_rules
from chs_fraud.app import CONSUMER as FRAUD
from chs_fraud.app import STATE_TOPICS

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PEOPLE = 1_000
PARTITIONS = 6
SERVICES = {NOTICES: "services/account-notices", FRAUD: "services/fraud"}
COMMANDS = {NOTICES: ["chs_account_notices", "worker"], FRAUD: ["chs_fraud", "processor"]}
OPENING_BALANCE_FEN = 1_000_000  # well above any low-balance threshold: one notice a posting


@dataclass
class Row:
    name: str
    events: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.events


def account_events(count: int) -> list[Event]:
    people = ["p" + secrets.token_hex(16) for _ in range(PEOPLE)]
    posted = datetime(2026, 3, 1, 2, tzinfo=UTC)
    balances = dict.fromkeys(people, OPENING_BALANCE_FEN)
    events: list[Event] = []
    for n in range(count):
        person = people[n % PEOPLE]
        amount = 1_000 + n % 5_000
        balances[person] += -amount if n % 2 else amount
        common = {
            "person_id": person,
            "account_id": "A" + person[1:9],
            "transaction_id": "T" + secrets.token_hex(8),
            "amount_fen": amount,
            "balance_after_fen": balances[person],
            "posted_at": posted,
        }
        if n % 2:
            events.append(
                AccountDebited(
                    **common,
                    merchant_code="M370202000001",
                    merchant_kind="pharmacy",
                    spender_person_id=person,
                )
            )
        else:
            events.append(
                AccountCredited(
                    **common,
                    payment_id="P" + secrets.token_hex(8),
                    period="202603",
                    rule_id="R1",
                )
            )
    return events


async def publish(bootstrap: str, prefix: str, events: Sequence[Event]) -> None:
    producer = create_producer(PlatformSettings(kafka_bootstrap=bootstrap), "bench-streams")
    await producer.start()
    try:
        pending = []
        for event in events:
            r = Envelope(event, source=f"/chs/{event.producer}").to_record()
            pending.append(
                await producer.send(
                    prefix + event.topic, key=r.key, value=r.value, headers=r.headers
                )
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def cpu_of(pid: int) -> float:
    """User + system seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)
    finally:
        await admin.close()


async def raw(bootstrap: str, prefix: str, count: int) -> Row:
    """An aiokafka consume → produce (acks=all) → commit per batch of ``count`` records."""
    source, target = prefix + ACCOUNT_EVENTS, prefix + "bench.passthrough"
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}bench-raw-{secrets.token_hex(2)}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    await consumer.start()
    try:
        moved, started, cpu = 0, time.perf_counter(), own_cpu()
        while moved < count:
            batches = await consumer.getmany(timeout_ms=500)
            forwarded = [
                await producer.send(target, key=r.key, value=r.value, headers=list(r.headers))
                for records in batches.values()
                for r in records
            ]
            await asyncio.gather(*forwarded)
            if batches:
                await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batches.items()})
            moved += len(forwarded)
        return Row("raw", count, time.perf_counter() - started, own_cpu() - cpu)
    finally:
        await consumer.stop()
        await producer.stop()


async def engine(bootstrap: str, prefix: str, count: int) -> Row:
    """The account notices' stateless step on ``RecordProcessor`` over aiokafka, without faust."""
    settings = PlatformSettings(kafka_bootstrap=bootstrap, topic_prefix=prefix)
    name = "bench-engine"
    consumer = AIOKafkaConsumer(
        prefix + ACCOUNT_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=prefix + name,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=1000,
    )
    producer = create_producer(settings, name)
    target = prefix + NOTICE_REQUESTS

    async def publish_all(sources: Sequence[Envelope]) -> list[Outcome]:
        pending = []
        for source in sources:
            for notice in notices_for(source):
                r = source.caused(notice, source="/chs/account-notices").to_record()
                pending.append(
                    await producer.send(target, key=r.key, value=r.value, headers=list(r.headers))
                )
        await asyncio.gather(*pending)
        return [Outcome.APPLIED] * len(sources)

    async def publish_one(source: Envelope) -> Outcome:
        await publish_all([source])
        return Outcome.APPLIED

    async def dead_letter(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await (await producer.send(topic, key=key, value=value, headers=headers))

    processor = RecordProcessor(
        name,
        publish_one,
        dead_letter,
        topic_prefix=prefix,
        apply_all=publish_all,
        types=TYPES,
    )
    await producer.start()
    await consumer.start()
    try:
        done, started, cpu = 0, time.perf_counter(), own_cpu()
        while done < count:
            batches = await consumer.getmany(timeout_ms=500)
            records = [r for rs in batches.values() for r in rs]
            await processor.process_all(records)
            if batches:
                await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batches.items()})
            done += len(records)
        return Row("engine", count, time.perf_counter() - started, own_cpu() - cpu)
    finally:
        await consumer.stop()
        await producer.stop()


class Processor:
    """A processor as a process of its own on ``prefix``, its log in ``log``."""

    def __init__(self, consumer: str, bootstrap: str, prefix: str, work: Path) -> None:
        data = work / f"{consumer}-data"
        shutil.rmtree(data, ignore_errors=True)
        self.log = work / f"{consumer}.log"
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / SERVICES[consumer]), *sys.path]),
            "CHS_KAFKA_BOOTSTRAP": bootstrap,
            "CHS_TOPIC_PREFIX": prefix,
            "CHS_DATA_DIR": str(data),
            "CHS_LOG_LEVEL": "INFO",
        }
        environment.pop("CHS_METRICS_PORT", None)
        with open(self.log, "wb") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", *COMMANDS[consumer]],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    async def assigned(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if '"partitions assigned"' in line and json.loads(line).get("partitions"):
                    return
            assert self.popen.poll() is None, self.log.read_text()[-3000:]
            await asyncio.sleep(0.05)
        raise TimeoutError("the processor was assigned no partitions")

    def stop(self) -> None:
        terminate(self.popen)


async def processor(
    consumer: str, bootstrap: str, prefix: str, count: int, notices: int, work: Path
) -> Row:
    process = Processor(consumer, bootstrap, prefix, work)
    try:
        await process.assigned()
        started, cpu = time.perf_counter(), cpu_of(process.popen.pid)
        while True:
            if consumer == NOTICES:
                done = await end_offsets(bootstrap, prefix + NOTICE_REQUESTS) >= notices
            else:
                done = (
                    await committed(bootstrap, prefix + consumer, prefix + ACCOUNT_EVENTS) >= count
                )
            if done:
                break
            assert process.popen.poll() is None, process.log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        return Row(consumer, count, time.perf_counter() - started, cpu_of(process.popen.pid) - cpu)
    finally:
        process.stop()


async def main(count: int, only: list[str], work: Path) -> int:
    bootstrap = PlatformSettings().kafka_bootstrap
    prefix = f"bench.streams.{secrets.token_hex(3)}."
    names = {
        *fraud_rules.SOURCE_TOPICS,
        *SOURCE_TOPICS,
        NOTICE_REQUESTS,
        QUALITY_SIGNALS,
        FRAUD_SIGNALS,
    }
    specs = [s for name in sorted(names) for s in (BY_NAME[name], dlq_spec(BY_NAME[name]))]
    await ensure_topics(bootstrap, prefix, [*specs, *STATE_TOPICS, NOTICES_STATE])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(prefix + "bench.passthrough", PARTITIONS, 1)])
    await admin.close()
    rows: list[Row] = []
    try:
        events = account_events(count)
        notices = sum(len(notices_for(Envelope(e, source="/chs/accounts"))) for e in events)
        await publish(bootstrap, prefix, events)
        print(f"{count:,} account events ({notices:,} notices) on {prefix}{ACCOUNT_EVENTS}")
        for name in only:
            if name == "raw":
                rows.append(await raw(bootstrap, prefix, count))
            elif name == "engine":
                rows.append(await engine(bootstrap, prefix, count))
            else:
                rows.append(await processor(name, bootstrap, prefix, count, notices, work))
            print(f"  {rows[-1].name}: {rows[-1].seconds:.1f} s")
    finally:
        await delete_topics(bootstrap, prefix)
    base = next((r for r in rows if r.name == "raw"), None)
    print(
        f"\n{'':18} {'events':>8} {'seconds':>8} {'events/s':>9} {'/ raw':>6} "
        f"{'CPU ms/event':>13} {'× raw':>6}"
    )
    print("-" * 74)
    for r in rows:
        ratio = f"{r.rate / base.rate:6.2f}" if base else ""
        cpu_ratio = f"{r.cpu_ms / base.cpu_ms:6.1f}" if base else ""
        print(
            f"{r.name:18} {r.events:8,} {r.seconds:8.1f} {r.rate:9.0f} {ratio:>6} "
            f"{r.cpu_ms:13.3f} {cpu_ratio:>6}"
        )
    print(
        "\n(raw: aiokafka consume → produce acks=all → commit per batch, in this process; "
        "a processor from its partitions assigned to its last output (account-notices) or "
        "commit (fraud); CPU: the process's user + system time over that span)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--only", default=f"raw,{NOTICES},{FRAUD},engine")
    parser.add_argument("--work", type=Path, default=Path("/tmp") / "chs-bench-streams")
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(options.events, options.only.split(","), options.work)))
