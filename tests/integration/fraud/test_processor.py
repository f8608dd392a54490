"""The fraud processor as a real process against the real broker: published events in both
arrival orders raise exactly one signal each, a settlement before the death none, a redelivered
event nothing new; the state is recovered from the changelogs after a restart."""

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.fraud import FraudSignalRaised
from chs_events.kafka import create_producer
from chs_events.settings import PlatformSettings
from chs_events.topics import BY_NAME, FRAUD_SIGNALS, dead_letter_spec
from chs_fraud import rules
from chs_fraud.app import STATE_TOPICS
from tests.support.broker import read_topic
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join(
    [str(REPO / p) for p in ("libs/chs_events", "services/fraud")] + sys.path
)
DAY = date(2026, 3, 10)
STORES = ["memory"] + (["rocksdb"] if importlib.util.find_spec("rocksdict") else [])


@dataclass
class Processor:
    popen: subprocess.Popen
    log: Path

    def lines(self) -> list[dict]:
        entries = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append({"message": line})
        return entries

    def wait_ready(self, timeout: float = 90.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.lines():
                if entry.get("message") == "state recovered":
                    return float(entry["seconds_since_start"])
            assert self.popen.poll() is None, f"processor exited:\n{self.log.read_text()}"
            time.sleep(0.1)
        raise AssertionError(f"not ready within {timeout} s:\n{self.log.read_text()}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@pytest.fixture
async def prefix(kafka_bootstrap, topic_prefix) -> str:
    specs = [
        spec
        for name in (*rules.SOURCE_TOPICS, FRAUD_SIGNALS)
        for spec in (BY_NAME[name], dead_letter_spec(BY_NAME[name]))
    ]
    await ensure_topics(kafka_bootstrap, topic_prefix, [*specs, *STATE_TOPICS])
    return topic_prefix


@pytest.fixture
def start(kafka_bootstrap, prefix, tmp_path) -> Iterator:
    started: list[Processor] = []

    def run(store: str = "memory") -> Processor:
        log = tmp_path / f"processor-{len(started)}.log"
        environment = {
            **os.environ,
            "PYTHONPATH": PYTHONPATH,
            "CHS_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "CHS_TOPIC_PREFIX": prefix,
            "CHS_DATA_DIR": str(tmp_path / "data"),
            "CHS_STORE": store,
            "CHS_LOG_LEVEL": "INFO",
        }
        with open(log, "wb") as output:
            popen = subprocess.Popen(
                [sys.executable, "-m", "chs_fraud", "processor"],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        processor = Processor(popen, log)
        started.append(processor)
        return processor

    yield run
    for processor in started:
        processor.stop(timeout=15)


async def publish(bootstrap: str, prefix: str, *items: Event | Envelope) -> None:
    producer = create_producer(PlatformSettings(kafka_bootstrap=bootstrap), "fraud-test")
    await producer.start()
    try:
        for item in items:
            envelope = item if isinstance(item, Envelope) else ev.envelope(item)
            r = envelope.to_record()
            topic = prefix + envelope.event.topic
            await producer.send_and_wait(topic, key=r.key, value=r.value, headers=r.headers)
    finally:
        await producer.stop()


async def signals(bootstrap: str, prefix: str, expected: int) -> list[FraudSignalRaised]:
    raised = []
    for record in await read_topic(bootstrap, prefix + FRAUD_SIGNALS, expected, timeout=60):
        event = Envelope.from_record(record.key, record.value, record.headers).event
        assert isinstance(event, FraudSignalRaised)
        raised.append(event)
    return raised


def by_person(raised: list[FraudSignalRaised]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for s in raised:
        found.setdefault(s.person_id, set()).add(s.signal_id)
    return found


async def test_both_arrival_orders_raise_one_signal_each_and_a_redelivery_nothing_new(
    kafka_bootstrap, prefix, start
):
    processor = start()
    processor.wait_ready()
    death_first, benefit_first, before_death = ev.new_person(), ev.new_person(), ev.new_person()
    case_first, injury_first = ev.new_person(), ev.new_person()
    late = ev.envelope(ev.settlement(benefit_first, DAY + timedelta(days=3)))
    death = ev.envelope(ev.death(death_first, DAY))

    def injury(person_id: str) -> Event:
        return ev.settlement(
            person_id,
            DAY + timedelta(days=1),
            visit_type="inpatient",
            discharge_date=DAY + timedelta(days=6),
            discharge_diagnoses=["S82.2"],
        )

    await publish(
        kafka_bootstrap,
        prefix,
        death,
        ev.settlement(death_first, DAY + timedelta(days=2)),
        late,
        ev.death(benefit_first, DAY),
        ev.settlement(before_death, DAY - timedelta(days=1)),
        ev.death(before_death, DAY),
        ev.accident(case_first, DAY),
        injury(case_first),
        injury(injury_first),
        ev.accident(injury_first, DAY),
    )
    await asyncio.sleep(1)
    await publish(kafka_bootstrap, prefix, late, death)  # delivered again
    raised = await signals(kafka_bootstrap, prefix, 4)
    found = by_person(raised)
    assert {p: len(ids) for p, ids in found.items()} == {
        death_first: 1,
        benefit_first: 1,
        case_first: 1,
        injury_first: 1,
    }
    kinds = {s.person_id: (s.kind, s.amount_fen) for s in raised}
    assert kinds[death_first] == kinds[benefit_first] == ("benefit_after_death", 30_000)
    assert kinds[case_first] == kinds[injury_first] == ("third_party_liability", 30_000)
    # the envelope's id is the signal's: a signal published again is one event to case work
    for record in await read_topic(kafka_bootstrap, prefix + FRAUD_SIGNALS, len(raised)):
        envelope = Envelope.from_record(record.key, record.value, record.headers)
        assert isinstance(envelope.event, FraudSignalRaised)
        assert envelope.id == envelope.event.signal_id


@pytest.mark.parametrize("store", STORES)
async def test_the_state_is_recovered_after_a_restart(kafka_bootstrap, prefix, start, store):
    first = start(store)
    first.wait_ready()
    person = ev.new_person()
    await publish(kafka_bootstrap, prefix, ev.account_opened(person), ev.death(person, DAY))
    await asyncio.sleep(3)  # applied and committed
    first.stop()
    second = start(store)
    print(f"\n{store}: state recovered {second.wait_ready():.2f} s after the restart")
    await publish(kafka_bootstrap, prefix, ev.debit(person, DAY + timedelta(days=1)))
    [raised] = await signals(kafka_bootstrap, prefix, 1)
    assert (raised.person_id, raised.kind, raised.region) == (
        person,
        "benefit_after_death",
        "370200",  # the account's region, kept before the restart too
    )
