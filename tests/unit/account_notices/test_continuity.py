"""The account events applied to their account's state (``chs_account_notices.rules.apply``):
continuity, duplicates, the low-balance alert once and armed again, redeliveries; and the step
over an in-memory table (``chs_account_notices.app.notices_of``). No I/O."""

import itertools
from datetime import UTC, date, datetime
from typing import cast

import pytest
from faust.types import TableT

from chs_account_notices.app import STATE_TOPIC, notices_of
from chs_account_notices.rules import AccountState, Policy, apply, dump, expected_after, load
from chs_account_notices.rules.state import KEPT_POSTINGS, Posting
from chs_account_notices.settings import AccountNoticeSettings
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountMovement,
    AccountOpened,
    AccountTransferredIn,
    AccountTransferredOut,
    AccountTransferredWithin,
    AccountWithdrawn,
    FamilyMemberAuthorized,
)
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.events.quality import DataQualitySignalRaised, quality_signal_id
from chs_events.topics import ACCOUNT_EVENTS, ACCOUNT_NOTICES_STATE, BY_NAME, QUALITY_SIGNALS
from tests.support.tables import InMemoryTable

pytestmark = pytest.mark.unit

HOLDER = "p" + "a" * 32
ACCOUNT = "A1"
AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
POLICY = Policy(5000, {"370200": 10000, "320000": 3000})
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
            opened_on=AT.date(),
        )
    )


def credit(amount: int, after: int, transaction: str | None = None) -> Envelope:
    return envelope(
        AccountCredited(
            person_id=HOLDER,
            account_id=ACCOUNT,
            transaction_id=transaction or f"contribution:{next(_ids)}",
            amount_fen=amount,
            balance_after_fen=after,
            posted_at=AT,
            payment_id=f"pay-{next(_ids)}",
            period="202610",
            rule_id="R",
        )
    )


def debit(amount: int, after: int, transaction: str | None = None) -> Envelope:
    return envelope(
        AccountDebited(
            person_id=HOLDER,
            account_id=ACCOUNT,
            transaction_id=transaction or f"client:P370200001:{next(_ids)}",
            amount_fen=amount,
            balance_after_fen=after,
            posted_at=AT,
            merchant_code="P370200001",
            merchant_kind="pharmacy",
            spender_person_id=HOLDER,
        )
    )


class Account:
    """An account's state as the table keeps it (its bytes), applied event after event."""

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

    def templates(self, source: Envelope) -> list[str]:
        return [
            o.template_id if isinstance(o, NoticeRequested) else type(o).__name__
            for o in self.apply(source)
        ]


def signal_of(caused: list[Event]) -> DataQualitySignalRaised:
    [signal] = caused
    assert isinstance(signal, DataQualitySignalRaised)
    return signal


def test_postings_that_follow_from_the_balance_are_told() -> None:
    account = Account()
    assert account.apply(opened()) == []
    assert account.templates(credit(18850, 18850)) == ["account.credited"]
    assert account.templates(debit(4650, 14200)) == ["account.debited"]
    state = account.state
    assert state is not None and state.balance_fen == 14200 and state.region == "370200"


@pytest.mark.parametrize(
    ("event", "before", "after"),
    [
        (credit(100, 0), 50, 150),
        (debit(100, 0), 150, 50),
        (
            AccountTransferredOut(
                person_id=HOLDER,
                account_id=ACCOUNT,
                transaction_id="t",
                amount_fen=700,
                balance_after_fen=0,
                posted_at=AT,
                transfer_id="T",
                to_region="320500",
            ),
            700,
            0,
        ),
        (
            AccountWithdrawn(
                person_id=HOLDER,
                account_id=ACCOUNT,
                transaction_id="w",
                amount_fen=700,
                balance_after_fen=0,
                posted_at=AT,
                closed_on=AT.date(),
            ),
            700,
            0,
        ),
        (
            AccountTransferredWithin(
                person_id=HOLDER,
                account_id=ACCOUNT,
                transaction_id="tw",
                amount_fen=700,
                balance_after_fen=700,
                posted_at=AT,
                transfer_id="T",
                from_region="370200",
                to_region="370100",
            ),
            700,
            700,
        ),
    ],
)
def test_the_balance_after_that_follows_from_the_one_before(event, before, after) -> None:
    movement = event.event if isinstance(event, Envelope) else event
    assert isinstance(movement, AccountMovement)
    assert expected_after(before, movement) == after


def test_a_debit_with_a_wrong_balance_after_raises_the_signal_and_no_notice() -> None:
    account = Account()
    account.apply(opened())
    told = credit(20000, 20000)
    account.apply(told)
    wrong = debit(4650, 16000)  # 200.00 - 46.50 is 153.50, not 160.00
    signal = signal_of(account.apply(wrong))
    assert (signal.kind, signal.problem, signal.account_id, signal.person_id) == (
        "account_continuity",
        "gap",
        ACCOUNT,
        HOLDER,
    )
    assert (signal.expected_balance_fen, signal.found_balance_fen) == (15350, 16000)
    assert (signal.event_id, signal.previous_event_id) == (wrong.id, told.id)
    assert signal.event_type == "chs.account.debited.v1"
    assert signal.signal_id == quality_signal_id("account_continuity", wrong.id)
    # the ledger's stated balance is the new baseline: the next posting is checked against it
    assert account.templates(debit(1000, 15000)) == ["account.debited"]


def test_a_transaction_posted_again_under_another_event_id_is_a_duplicate() -> None:
    account = Account()
    account.apply(opened())
    first = credit(20000, 20000, transaction="contribution:P1")
    account.apply(first)
    again = credit(20000, 20000, transaction="contribution:P1")  # another event id
    signal = signal_of(account.apply(again))
    assert signal.problem == "duplicate" and signal.previous_event_id == first.id
    assert (signal.expected_balance_fen, signal.found_balance_fen) == (20000, 20000)
    state = account.state
    assert state is not None and state.balance_fen == 20000  # nothing applied
    assert account.templates(debit(500, 19500)) == ["account.debited"]


def test_a_redelivered_event_changes_nothing_and_causes_the_same_again() -> None:
    account = Account()
    account.apply(opened())
    told = credit(20000, 20000)
    [notice] = account.apply(told)
    wrong = debit(100, 1)
    [signal] = account.apply(wrong)
    stored = account.stored

    assert account.apply(told) == [notice]  # the same notice id: notification sends it once
    assert account.apply(wrong) == [signal]  # the same signal id: nothing new
    assert account.apply(opened()) == []
    assert account.stored == stored
    assert isinstance(notice, NoticeRequested)
    assert notice.notice_id == notice_id(told.id, "account.credited", HOLDER)


def test_the_first_posting_seen_is_the_baseline() -> None:
    account = Account()
    assert account.templates(debit(100, 9000)) == ["account.debited"]  # no opening seen
    assert account.templates(debit(100, 8900)) == ["account.debited"]
    assert signal_of(account.apply(debit(100, 8900))).expected_balance_fen == 8800


def test_the_low_balance_alert_is_sent_once_and_armed_again_above_the_threshold() -> None:
    account = Account()  # Qingdao (370200): 100.00
    account.apply(opened())
    account.apply(credit(15000, 15000))
    below = debit(6000, 9000)
    caused = account.apply(below)
    assert [n.template_id for n in caused if isinstance(n, NoticeRequested)] == [
        "account.debited",
        "account.low_balance",
    ]
    alert = caused[1]
    assert isinstance(alert, NoticeRequested)
    assert alert.params == {"balance_yuan": "90.00", "threshold_yuan": "100.00"}
    assert (alert.category, alert.person_id) == ("account", HOLDER)
    assert alert.notice_id == notice_id(below.id, "account.low_balance", HOLDER)
    assert account.apply(below) == caused  # redelivered: the same alert, once

    assert account.templates(debit(1000, 8000)) == ["account.debited"]  # once
    assert account.templates(credit(2000, 10000)) == ["account.credited"]  # at it: armed
    assert account.templates(debit(1, 9999)) == ["account.debited", "account.low_balance"]


def test_only_a_debit_from_at_or_above_the_threshold_alerts() -> None:
    account = Account()
    account.apply(opened())
    assert account.templates(credit(5000, 5000)) == ["account.credited"]  # still below 100.00
    assert account.templates(debit(1000, 4000)) == ["account.debited"]  # below to below
    account.apply(credit(96000, 100000))
    out = AccountTransferredOut(
        person_id=HOLDER,
        account_id=ACCOUNT,
        transaction_id="out",
        amount_fen=100000,
        balance_after_fen=0,
        posted_at=AT,
        transfer_id="T",
        to_region="320500",
    )
    assert account.templates(envelope(out)) == ["account.transferred_out"]  # not a debit


def test_the_threshold_is_the_region_s_as_the_account_moves() -> None:
    assert POLICY.threshold_fen("370200") == 10000
    assert POLICY.threshold_fen("370211") == 10000  # its city's
    assert POLICY.threshold_fen("320500") == 3000  # its province's
    assert POLICY.threshold_fen("110101") == POLICY.threshold_fen(None) == 5000
    account = Account()
    account.apply(opened("320500"))  # Jiangsu: 30.00
    account.apply(credit(4000, 4000))
    assert account.templates(debit(500, 3500)) == ["account.debited"]
    moved = AccountTransferredIn(
        person_id=HOLDER,
        account_id=ACCOUNT,
        transaction_id="in",
        amount_fen=10000,
        balance_after_fen=13500,
        posted_at=AT,
        transfer_id="T",
        from_region="320500",
        to_region="370200",
        platform_reference="REF",
        confirmed_by="staff",
    )
    assert account.templates(envelope(moved)) == ["account.transferred_in"]
    assert account.templates(debit(4000, 9500)) == ["account.debited", "account.low_balance"]


def test_a_gap_below_the_threshold_tells_nothing_and_no_alert_follows_it() -> None:
    account = Account()
    account.apply(opened())
    account.apply(credit(20000, 20000))
    assert account.templates(debit(100, 50)) == ["DataQualitySignalRaised"]
    assert account.templates(debit(10, 40)) == ["account.debited"]


def test_family_authorizations_need_no_state() -> None:
    authorized = FamilyMemberAuthorized(
        person_id=HOLDER,
        account_id=ACCOUNT,
        member_person_id="p" + "b" * 32,
        relation="child",
        authorized_on=date(2026, 11, 22),
    )
    applied = apply(envelope(authorized), None, POLICY)
    assert applied.state is None
    assert [n.template_id for n in applied.caused if isinstance(n, NoticeRequested)] == [
        "account.family_member_authorized"
    ]


def test_the_state_keeps_its_recent_postings_and_its_bytes_round_trip() -> None:
    account = Account()
    account.apply(opened())
    for n in range(KEPT_POSTINGS + 5):
        account.apply(credit(1, n + 1))
    state = account.state
    assert state is not None and len(state.recent) == KEPT_POSTINGS
    assert state.balance_fen == KEPT_POSTINGS + 5
    full = AccountState(
        7,
        "370200",
        True,
        (Posting("e1", "t1", "gap", 5, "e0"), Posting("e2", "t2", "told", None, None, 100)),
    )
    assert load(dump(full)) == full
    assert load(None) is None and load(b"") is None


def test_the_step_keeps_the_account_s_state_in_its_table() -> None:
    table = InMemoryTable()
    step = notices_of(AccountNoticeSettings(), cast(TableT, table))
    step(opened())
    assert list(table) == [ACCOUNT.encode()]
    assert [type(o).__name__ for o in step(credit(100, 100))] == ["NoticeRequested"]
    wrong = debit(50, 10)
    [signal] = step(wrong)
    stored = table[ACCOUNT.encode()]
    assert step(wrong) == [signal] and table[ACCOUNT.encode()] == stored


def test_the_catalog_has_the_signals_kept_forever_and_the_table_s_changelog_compacted() -> None:
    signals = BY_NAME[QUALITY_SIGNALS]
    assert (signals.producer, signals.consumers, signals.retention_ms) == (
        "account-notices",
        ("analytics",),
        -1,
    )
    assert signals.event_types == ("chs.quality.signal.raised.v1",)
    state = BY_NAME[ACCOUNT_NOTICES_STATE]
    assert (state.cleanup_policy, state.partitions, state.key) == ("compact", 6, "account_id")
    assert STATE_TOPIC is state
    accounts = BY_NAME[ACCOUNT_EVENTS]
    assert "account-notices" in accounts.consumers
    assert "progress-notices" not in accounts.consumers
