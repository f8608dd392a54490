"""The fraud processor as a real process against the real broker: published events in both
arrival orders raise exactly one signal each, a settlement before the death none, a redelivered
event nothing new; the state is recovered from the changelogs after a restart."""

import asyncio
import importlib.util
import os
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.fraud import FraudSignalRaised
from chs_events.topics import BY_NAME, FRAUD_SIGNALS, dead_letter_spec
from chs_fraud import rules
from chs_fraud.app import STATE_TOPICS
from tests.support import broker
from tests.support.broker import read_topic
from tests.support.process import Spawned
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join(
    [str(REPO / p) for p in ("libs/chs_events", "services/fraud")] + sys.path
)
DAY = date(2026, 3, 10)
STORES = ["memory"] + (["rocksdb"] if importlib.util.find_spec("rocksdict") else [])


class Processor(Spawned):
    def wait_ready(self, timeout: float = 90.0) -> float:
        """Seconds from the start until the state was recovered, as the processor logs them."""
        entry = self.wait_for(
            lambda entry: entry.get("message") == "state recovered", "state recovered", timeout
        )
        return float(entry["seconds_since_start"])


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
        processor = Processor.start(
            ["chs_fraud", "processor"],
            tmp_path / f"processor-{len(started)}.log",
            pythonpath=PYTHONPATH,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
            data_dir=tmp_path / "data",
            CHS_STORE=store,
        )
        started.append(processor)
        return processor

    yield run
    for processor in started:
        processor.stop(timeout=15)


async def publish(bootstrap: str, prefix: str, *items: Event | Envelope) -> None:
    envelopes = [item if isinstance(item, Envelope) else ev.envelope(item) for item in items]
    await broker.publish_each(bootstrap, [(prefix + e.event.topic, e) for e in envelopes])


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
