"""Coalescing (where the policy turns it on): a burst of small debits told as one notice with the
count, the total and the final balance, closed by the account's next posting or by a tick of its
partition; off by default. No I/O."""

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from faust.types import TableT

from chs_account_notices.app import notices_of, tick_of
from chs_account_notices.rules import (
    AccountState,
    Pending,
    Policy,
    apply,
    dump,
    dump_pending,
    load,
    load_pending,
    pending_key,
    ticked,
)
from chs_account_notices.rules.policy import POLICY_FILE, Coalescing
from chs_account_notices.rules.state import Burst
from chs_account_notices.settings import AccountNoticeSettings
from chs_events.envelope import Envelope
from chs_events.events.account import AccountCredited, AccountDebited, AccountOpened
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.events.ticks import AccountNoticesTicked
from tests.support.tables import InMemoryTable

pytestmark = pytest.mark.unit

HOLDER = "p" + "c" * 32
ACCOUNT = "A9"
T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in China
WINDOW = 600
POLICY = Policy(5000, {}, Coalescing(2000, WINDOW, frozenset({"370200"})))
_ids = itertools.count(1)


def envelope(event: Event) -> Envelope:
    return Envelope(event, source="/chs/accounts")


def opened(region: str = "370200") -> Envelope:
    return envelope(
        AccountOpened(
            person_id=HOLDER,
            account_id=ACCOUNT,
            enrollment_id="E1",
            pooling_region=region,
            opened_on=T0.date(),
        )
    )


def credit(amount: int, after: int, at: datetime = T0) -> Envelope:
    return envelope(
        AccountCredited(
            person_id=HOLDER,
            account_id=ACCOUNT,
            transaction_id=f"contribution:{next(_ids)}",
            amount_fen=amount,
            balance_after_fen=after,
            posted_at=at,
            payment_id=f"pay-{next(_ids)}",
            period="202610",
            rule_id="R",
        )
    )


def debit(amount: int, after: int, seconds: int = 0) -> Envelope:
    return envelope(
        AccountDebited(
            person_id=HOLDER,
            account_id=ACCOUNT,
            transaction_id=f"client:P370200001:{next(_ids)}",
            amount_fen=amount,
            balance_after_fen=after,
            posted_at=T0 + timedelta(seconds=seconds),
            merchant_code="P370200001",
            merchant_kind="pharmacy",
            spender_person_id=HOLDER,
        )
    )


class Account:
    def __init__(self, policy: Policy = POLICY) -> None:
        self.stored: bytes | None = None
        self.policy = policy

    @property
    def state(self) -> AccountState | None:
        return load(self.stored)

    def apply(self, source: Envelope) -> list[Event]:
        applied = apply(source, self.state, self.policy)
        if applied.state is not None:
            self.stored = dump(applied.state)
        return applied.caused

    def told(self, source: Envelope) -> list[str]:
        return [n.template_id for n in self.apply(source) if isinstance(n, NoticeRequested)]


def funded() -> Account:
    account = Account()
    account.apply(opened())
    account.apply(credit(100000, 100000, T0 - timedelta(hours=1)))
    return account


def notice(caused: list[Event]) -> NoticeRequested:
    [only] = caused
    assert isinstance(only, NoticeRequested)
    return only


def test_small_debits_within_the_window_are_told_once_by_the_next_posting() -> None:
    account = funded()
    first = debit(500, 99500)
    assert account.told(first) == []
    assert account.told(debit(700, 98800, 120)) == []
    assert account.told(debit(300, 98500, 599)) == []
    state = account.state
    assert state is not None and state.burst is not None and state.burst.count == 3
    caused = account.apply(credit(1000, 99500, T0 + timedelta(minutes=30)))
    assert [n.template_id for n in caused if isinstance(n, NoticeRequested)] == [
        "account.debits_coalesced",
        "account.credited",
    ]
    burst = caused[0]
    assert isinstance(burst, NoticeRequested)
    assert burst.params == {
        "posted_on": "2026-11-22",
        "count": "3",
        "total_yuan": "15.00",
        "balance_yuan": "985.00",
    }
    assert burst.notice_id == notice_id(first.id, "account.debits_coalesced", HOLDER)
    assert (burst.person_id, burst.category) == (HOLDER, "account")
    assert account.state is not None and account.state.burst is None


def test_a_small_debit_past_the_window_starts_the_next_burst() -> None:
    account = funded()
    account.apply(debit(500, 99500))
    late = debit(500, 99000, WINDOW)
    assert account.told(late) == ["account.debits_coalesced"]
    state = account.state
    assert state is not None and state.burst is not None
    assert (state.burst.first_event_id, state.burst.count) == (late.id, 1)


def test_a_large_debit_closes_the_burst_and_is_told_itself() -> None:
    account = funded()
    account.apply(debit(2000, 98000))  # at most 20.00: small
    assert account.told(debit(2001, 95999, 10)) == ["account.debits_coalesced", "account.debited"]


def test_a_debit_that_takes_the_balance_below_the_threshold_is_told_with_the_alert() -> None:
    account = funded()
    account.apply(debit(1000, 99000))
    assert account.told(debit(1, 98999, 5)) == []
    low = Account()
    low.apply(opened())
    low.apply(credit(5500, 5500))
    low.apply(debit(400, 5100))
    assert low.told(debit(200, 4900, 5)) == [
        "account.debits_coalesced",
        "account.debited",
        "account.low_balance",
    ]


def test_a_gap_closes_the_burst_before_its_signal_and_a_redelivery_tells_the_same() -> None:
    account = funded()
    account.apply(debit(500, 99500))
    wrong = debit(500, 90000, 30)
    caused = account.apply(wrong)
    assert [type(c).__name__ for c in caused] == ["NoticeRequested", "DataQualitySignalRaised"]
    assert account.apply(wrong) == caused  # redelivered: the same burst notice and signal


def test_off_by_default_and_elsewhere() -> None:
    assert not Policy.read(POLICY_FILE).coalescing.anywhere
    elsewhere = Account()
    elsewhere.apply(opened("320500"))
    elsewhere.apply(credit(100000, 100000))
    assert elsewhere.told(debit(500, 99500)) == ["account.debited"]
    assert POLICY.coalescing.joins("370211", 2000)  # its city's
    assert not POLICY.coalescing.joins("370211", 2001)


def test_a_tick_closes_the_bursts_whose_window_ended_and_again_tells_the_same() -> None:
    account = funded()
    first = debit(500, 99500)
    account.apply(first)
    account.apply(debit(500, 99000, 60))
    state = account.state
    assert state is not None
    other = AccountState(
        100, "370200", True, (), Burst("p2", "e2", 0, int(T0.timestamp()) + 10_000, 1, 5, 100)
    )
    pending = Pending((ACCOUNT, "A2", "A3"))  # A3: closed by a posting since
    tick = envelope(
        AccountNoticesTicked(person_id="partition-0", partition=0, at=T0 + timedelta(minutes=11))
    )
    at = int((T0 + timedelta(minutes=11)).timestamp())
    done = ticked(tick, at, pending, {ACCOUNT: state, "A2": other, "A3": AccountState(5)})
    told = notice(done.caused)
    assert told.notice_id == notice_id(first.id, "account.debits_coalesced", HOLDER)
    assert told.params["count"] == "2" and told.params["balance_yuan"] == "990.00"
    assert done.pending is not None and done.pending.accounts == ("A2",)
    assert done.states[ACCOUNT].burst is None and set(done.states) == {ACCOUNT}

    again = ticked(tick, at, done.pending, {"A2": other})
    assert again.caused == done.caused and again.pending is None and again.states == {}
    quiet = envelope(AccountNoticesTicked(person_id="partition-0", partition=0, at=T0))
    assert ticked(quiet, at, done.pending, {"A2": other}) == type(done)(None, {}, [])
    assert load_pending(dump_pending(done.pending)) == done.pending


def test_the_step_keeps_the_partition_s_pending_accounts_and_ticks_close_them(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"low_balance": {"default_threshold_fen": 0, "regions": {}},'
        ' "coalescing": {"small_debit_fen": 2000, "window_seconds": 1, "regions": ["370200"]}}'
    )
    table = InMemoryTable()
    settings = AccountNoticeSettings(policy_file=policy)
    step = notices_of(settings, cast(TableT, table), partition_of=lambda: 3)
    step(opened())
    step(credit(10000, 10000))
    first = debit(500, 9500)
    assert list(step(first)) == []
    assert load_pending(table[pending_key(3)]).accounts == (ACCOUNT,)
    tick = tick_of(3, "/chs/account-notices")
    assert isinstance(tick.event, AccountNoticesTicked) and tick.event.partition == 3
    [told] = step(tick)
    assert isinstance(told, NoticeRequested)
    assert told.notice_id == notice_id(first.id, "account.debits_coalesced", HOLDER)
    assert load_pending(table[pending_key(3)]).accounts == ()
    assert list(step(tick)) == [told]  # delivered again: the same notice
