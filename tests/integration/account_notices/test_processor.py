"""The account-notice processor as a real process against the real broker: the good postings
give their notices once (a redelivery the same notice ids, the low-balance alert once); a debit
posted with a wrong balance after raises the continuity signal and no notice; the account's state
is recovered from the changelog after a restart."""

import asyncio
import importlib.util
import os
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chs_account_notices import rules
from chs_account_notices.app import STATE_TOPIC
from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.account import AccountCredited, AccountDebited, AccountOpened
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.events.quality import DataQualitySignalRaised, quality_signal_id
from chs_events.topics import BY_NAME, NOTICE_REQUESTS, QUALITY_SIGNALS, dead_letter_spec
from tests.support import broker
from tests.support.broker import read_topic
from tests.support.process import Spawned

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join(
    [str(REPO / p) for p in ("libs/chs_events", "services/account-notices")] + sys.path
)
AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
STORES = ["memory"] + (["rocksdb"] if importlib.util.find_spec("rocksdict") else [])


class Processor(Spawned):
    def wait_ready(self, timeout: float = 90.0) -> float:
        entry = self.wait_for(
            lambda entry: entry.get("message") == "state recovered", "state recovered", timeout
        )
        return float(entry["seconds_since_start"])


@pytest.fixture
async def prefix(kafka_bootstrap, topic_prefix) -> str:
    specs = [
        spec
        for name in (*rules.SOURCE_TOPICS, NOTICE_REQUESTS, QUALITY_SIGNALS)
        for spec in (BY_NAME[name], dead_letter_spec(BY_NAME[name]))
    ]
    await ensure_topics(kafka_bootstrap, topic_prefix, [*specs, STATE_TOPIC])
    return topic_prefix


@pytest.fixture
def start(kafka_bootstrap, prefix, tmp_path) -> Iterator:
    started: list[Processor] = []

    def run(store: str = "memory", **env: str) -> Processor:
        processor = Processor.start(
            ["chs_account_notices", "worker"],
            tmp_path / f"processor-{len(started)}.log",
            pythonpath=PYTHONPATH,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
            data_dir=tmp_path / "data",
            CHS_STORE=store,
            **env,
        )
        started.append(processor)
        return processor

    yield run
    for processor in started:
        processor.stop(timeout=15)


class Holder:
    """A holder's account in Qingdao (threshold 100.00) and its events, numbered."""

    def __init__(self) -> None:
        self.person_id = "p" + secrets.token_hex(16)
        self.account_id = f"A-{secrets.token_hex(6)}"
        self.n = 0

    def envelope(self, event: Event) -> Envelope:
        return Envelope(event, source="/chs/accounts")

    def opened(self) -> Envelope:
        return self.envelope(
            AccountOpened(
                person_id=self.person_id,
                account_id=self.account_id,
                enrollment_id="E1",
                pooling_region="370200",
                opened_on=AT.date(),
            )
        )

    def credit(self, amount: int, after: int) -> Envelope:
        self.n += 1
        return self.envelope(
            AccountCredited(
                person_id=self.person_id,
                account_id=self.account_id,
                transaction_id=f"contribution:{self.account_id}-{self.n}",
                amount_fen=amount,
                balance_after_fen=after,
                posted_at=AT,
                payment_id=f"pay-{self.n}",
                period="202610",
                rule_id="R",
            )
        )

    def debit(self, amount: int, after: int, at: datetime = AT) -> Envelope:
        self.n += 1
        return self.envelope(
            AccountDebited(
                person_id=self.person_id,
                account_id=self.account_id,
                transaction_id=f"client:P370200001:{self.account_id}-{self.n}",
                amount_fen=amount,
                balance_after_fen=after,
                posted_at=at,
                merchant_code="P370200001",
                merchant_kind="pharmacy",
                spender_person_id=self.person_id,
            )
        )


async def publish(bootstrap: str, prefix: str, *envelopes: Envelope) -> None:
    await broker.publish_each(bootstrap, [(prefix + e.event.topic, e) for e in envelopes])


async def outputs(bootstrap: str, topic: str, expected: int) -> list[Envelope]:
    return [
        Envelope.from_record(r.key, r.value, r.headers)
        for r in await read_topic(bootstrap, topic, expected, timeout=60)
    ]


async def test_a_debit_with_a_wrong_balance_after_raises_the_signal_and_no_notice(
    kafka_bootstrap, prefix, start
):
    processor = start()
    processor.wait_ready()
    holder = Holder()
    credited = holder.credit(15000, 15000)
    below = holder.debit(6000, 9000)  # 150.00 → 90.00: below Qingdao's 100.00
    wrong = holder.debit(1000, 8500)  # 90.00 - 10.00 is 80.00, not 85.00
    after = holder.debit(500, 8000)  # checked against the ledger's 85.00
    await publish(kafka_bootstrap, prefix, holder.opened(), credited, below, wrong, after)
    await asyncio.sleep(1)
    await publish(kafka_bootstrap, prefix, credited, wrong)  # delivered again

    raised = await outputs(kafka_bootstrap, prefix + QUALITY_SIGNALS, 1)
    # the wrong debit delivered again raises the same signal again (its id): nothing new
    assert len({e.id for e in raised}) == 1 and len(raised) == 2
    signal_envelope = raised[0]
    signal = signal_envelope.event
    assert isinstance(signal, DataQualitySignalRaised)
    assert (signal.problem, signal.account_id, signal.event_id) == (
        "gap",
        holder.account_id,
        wrong.id,
    )
    assert (signal.expected_balance_fen, signal.found_balance_fen) == (8000, 8500)
    assert signal.previous_event_id == below.id
    assert (
        signal_envelope.id == signal.signal_id == quality_signal_id("account_continuity", wrong.id)
    )
    assert signal_envelope.causation_id == wrong.id
    assert signal_envelope.source == "/chs/account-notices"

    notices = await outputs(kafka_bootstrap, prefix + NOTICE_REQUESTS, 4)
    told: dict[str, tuple[str | None, str]] = {}
    for envelope in notices:
        notice = envelope.event
        assert isinstance(notice, NoticeRequested)
        assert (notice.person_id, notice.category) == (holder.person_id, "account")
        assert notice.notice_id == notice_id(
            str(envelope.causation_id), notice.template_id, holder.person_id
        )
        told.setdefault(notice.notice_id, (envelope.causation_id, notice.template_id))
    # the credit's notice twice (redelivered: one notice id), nothing for the wrong debit
    assert len(notices) == 5
    assert sorted(told.values()) == sorted(
        [
            (credited.id, "account.credited"),
            (below.id, "account.debited"),
            (below.id, "account.low_balance"),
            (after.id, "account.debited"),
        ]
    )
    assert wrong.id not in {cause for cause, _ in told.values()}


@pytest.mark.parametrize("store", STORES)
async def test_the_account_s_state_is_recovered_after_a_restart(
    kafka_bootstrap, prefix, start, store
):
    first = start(store)
    first.wait_ready()
    holder = Holder()
    await publish(kafka_bootstrap, prefix, holder.opened(), holder.credit(20000, 20000))
    await outputs(kafka_bootstrap, prefix + NOTICE_REQUESTS, 1)
    await asyncio.sleep(3)  # applied and committed
    first.stop()
    second = start(store)
    print(f"\n{store}: state recovered {second.wait_ready():.2f} s after the restart")
    wrong = holder.debit(100, 20000)  # the balance kept before the restart: 199.00 expected
    await publish(kafka_bootstrap, prefix, wrong)
    [signal] = await outputs(kafka_bootstrap, prefix + QUALITY_SIGNALS, 1)
    assert isinstance(signal.event, DataQualitySignalRaised)
    assert (signal.event.event_id, signal.event.expected_balance_fen) == (wrong.id, 19900)


async def test_a_burst_of_small_debits_is_told_once_when_its_window_ends(
    kafka_bootstrap, prefix, start, tmp_path
):
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"low_balance": {"default_threshold_fen": 0, "regions": {}},'
        ' "coalescing": {"small_debit_fen": 2000, "window_seconds": 2, "regions": ["370200"]}}'
    )
    processor = start(CHS_POLICY_FILE=str(policy), CHS_TICK_SECONDS="0.5")
    processor.wait_ready()
    holder = Holder()
    now = datetime.now(UTC)
    first = holder.debit(500, 9500, now)
    await publish(
        kafka_bootstrap,
        prefix,
        holder.opened(),
        holder.credit(10000, 10000),
        first,
        holder.debit(700, 8800, now),
        holder.debit(300, 8500, now),
    )
    # no further event: a tick of the account's partition closes the window
    notices = await outputs(kafka_bootstrap, prefix + NOTICE_REQUESTS, 2)
    told = [e.event for e in notices]
    assert all(isinstance(n, NoticeRequested) for n in told)
    assert [n.template_id for n in told if isinstance(n, NoticeRequested)] == [
        "account.credited",
        "account.debits_coalesced",
    ]
    burst = told[1]
    assert isinstance(burst, NoticeRequested)
    assert burst.params["count"] == "3" and burst.params["total_yuan"] == "15.00"
    assert burst.params["balance_yuan"] == "85.00"
    assert burst.notice_id == notice_id(first.id, "account.debits_coalesced", holder.person_id)
