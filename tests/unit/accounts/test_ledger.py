"""The ledger rules of the personal account: double entry, never negative, family mutual aid,
closing out. No I/O."""
from datetime import UTC, date, datetime

import pytest

from chs_accounts import domain
from chs_accounts.model import (
    CLOSED,
    FUND_ALLOCATION,
    OPEN,
    TRANSFER_CLEARING,
    Account,
    FamilyMember,
    heirs,
    merchant,
)

pytestmark = pytest.mark.unit

HOLDER, CHILD, STRANGER = "p" + "a" * 32, "p" + "b" * 32, "p" + "c" * 32
AT = datetime(2026, 11, 22, 9, tzinfo=UTC)
TODAY = date(2026, 11, 22)


def account(balance: int = 10000, status: str = OPEN) -> Account:
    return Account("A1", HOLDER, "E1", "370200", status, balance, date(2026, 1, 1),
                   "death" if status == CLOSED else None, TODAY if status == CLOSED else None)


FAMILY = [FamilyMember("A1", CHILD, "child", TODAY)]


def pay(acc: Account, amount: int, spender: str = HOLDER, family=FAMILY):
    return domain.debit(acc, family, "T1", amount, merchant("P370200001"), spender, AT,
                        "P370200001", "h")


def test_a_credit_is_two_postings_that_sum_to_zero():
    after, t = domain.credit(account(0), "contribution:1", 13000, FUND_ALLOCATION, AT)
    assert after.balance_fen == t.balance_after_fen == 13000
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", 13000), ("fund:allocation", -13000)]


def test_a_debit_by_the_holder_leaves_the_balance_after():
    after, t, relation = pay(account(10000), 4650)
    assert (after.balance_fen, t.balance_after_fen, relation) == (5350, 5350, None)
    assert sum(p.amount_fen for p in t.postings) == 0
    assert t.postings[0].amount_fen == -4650 and t.postings[1].ledger_account == "merchant:P370200001"


def test_the_whole_balance_may_be_spent_but_never_more():
    after, _, _ = pay(account(100), 100)
    assert after.balance_fen == 0
    with pytest.raises(domain.InsufficientBalance) as refused:
        pay(account(100), 101)
    assert refused.value.status == 409
    assert refused.value.extensions["reason"] == "insufficient_balance"
    assert refused.value.extensions["balance_fen"] == 100


def test_an_authorized_family_member_spends_a_stranger_does_not():
    _, t, relation = pay(account(), 500, spender=CHILD)
    assert relation == "child" and t.spender_person_id == CHILD
    with pytest.raises(domain.SpenderNotAuthorized) as refused:
        pay(account(), 500, spender=STRANGER)
    assert refused.value.status == 403
    with pytest.raises(domain.SpenderNotAuthorized):
        pay(account(), 500, spender=CHILD, family=[])  # revoked


def test_a_closed_account_takes_no_money_and_pays_none():
    with pytest.raises(domain.AccountClosed):
        pay(account(status=CLOSED), 1)
    with pytest.raises(domain.AccountClosed):
        domain.credit(account(status=CLOSED), "c", 1, FUND_ALLOCATION, AT)


def test_amounts_are_positive():
    with pytest.raises(domain.InvalidField):
        pay(account(), 0)


def test_the_same_key_for_another_request_is_refused():
    _, t, _ = pay(account(), 10)
    assert domain.same_request(t, "h") is t
    with pytest.raises(domain.IdempotencyKeyReused):
        domain.same_request(t, "other")


def test_withdrawal_on_death_pays_the_whole_balance_to_the_heirs_and_closes():
    after, t = domain.close_out(account(8800), "withdrawal:E1", "withdrawal", heirs("A1"), AT,
                                "death", TODAY)
    assert (after.status, after.balance_fen, after.closed_on) == (CLOSED, 0, TODAY)
    assert t.amount_fen == 8800 and t.balance_after_fen == 0
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", -8800), ("heirs:A1", 8800)]


def test_transfer_out_moves_the_balance_to_clearing():
    after, t = domain.close_out(account(500), "transfer-out:X", "transfer_out",
                                TRANSFER_CLEARING, AT, "transferred_out", TODAY)
    assert after.status == CLOSED and t.postings[1] == type(t.postings[1])(TRANSFER_CLEARING, 500)


@pytest.mark.parametrize(("from_region", "to_region", "direction"), [
    ("370200", "320500", "out"), ("320500", "370200", "in"), ("370200", "370100", "within"),
    ("320500", "330100", "within")])
def test_transfer_direction_against_the_home_province(from_region, to_region, direction):
    assert domain.transfer_direction(from_region, to_region, "370000") == direction


def test_the_holder_needs_no_authorization():
    with pytest.raises(domain.InvalidField):
        domain.check_member(account(), HOLDER)
