"""The ledger rules of the personal account: double entry, never negative, family mutual aid,
closing out. No I/O."""

from datetime import UTC, date, datetime

import pytest

from chs_accounts import domain, model
from chs_accounts.model import (
    CLOSED,
    OPEN,
    TRANSFER_CLEARING,
    Account,
    FamilyMember,
    Status,
)
from chs_events.errors import InvalidField
from chs_events.problems import domain_problem

pytestmark = pytest.mark.unit

HOLDER, CHILD, STRANGER = "p" + "a" * 32, "p" + "b" * 32, "p" + "c" * 32
AT = datetime(2026, 11, 22, 9, tzinfo=UTC)
TODAY = date(2026, 11, 22)


def account(balance: int = 10000, status: Status = OPEN) -> Account:
    return Account(
        "A1",
        HOLDER,
        "E1",
        "370200",
        status,
        balance,
        date(2026, 1, 1),
        "death" if status == CLOSED else None,
        TODAY if status == CLOSED else None,
    )


FAMILY = [FamilyMember("A1", CHILD, "child", TODAY)]


def pay(acc: Account, amount: int, spender: str = HOLDER, family=FAMILY):
    after, t, debited = acc.debit(family, "T1", amount, "P370200001", "pharmacy", spender, AT, "h")
    return after, t, debited.relation


def test_a_credit_is_two_postings_that_sum_to_zero():
    after, t, _ = account(0).credit("1", 13000, AT, period="202610", rule_id="R")
    assert after.balance_fen == t.balance_after_fen == 13000
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", 13000),
        ("fund:allocation", -13000),
    ]


def test_a_debit_by_the_holder_leaves_the_balance_after():
    after, t, relation = pay(account(10000), 4650)
    assert (after.balance_fen, t.balance_after_fen, relation) == (5350, 5350, None)
    assert sum(p.amount_fen for p in t.postings) == 0
    assert (
        t.postings[0].amount_fen == -4650 and t.postings[1].ledger_account == "merchant:P370200001"
    )


def test_the_whole_balance_may_be_spent_but_never_more():
    after, _, _ = pay(account(100), 100)
    assert after.balance_fen == 0
    with pytest.raises(domain.InsufficientBalance) as refused:
        pay(account(100), 101)
    assert domain_problem(refused.value)[0] == 409
    assert refused.value.extensions["reason"] == "insufficient_balance"
    assert refused.value.extensions["balance_fen"] == 100


def test_an_authorized_family_member_spends_a_stranger_does_not():
    _, t, relation = pay(account(), 500, spender=CHILD)
    assert relation == "child" and t.spender_person_id == CHILD
    with pytest.raises(domain.SpenderNotAuthorized) as refused:
        pay(account(), 500, spender=STRANGER)
    assert domain_problem(refused.value)[0] == 403
    with pytest.raises(domain.SpenderNotAuthorized):
        pay(account(), 500, spender=CHILD, family=[])  # revoked


def test_a_closed_account_takes_no_money_and_pays_none():
    with pytest.raises(domain.AccountClosed):
        pay(account(status=CLOSED), 1)
    with pytest.raises(domain.AccountClosed):
        account(status=CLOSED).credit("c", 1, AT, period="202610", rule_id="R")


def test_amounts_are_positive():
    with pytest.raises(InvalidField):
        pay(account(), 0)


def test_the_same_key_for_another_request_is_refused():
    _, t, _ = pay(account(), 10)
    assert domain.same_request(t, "h") is t
    with pytest.raises(domain.IdempotencyKeyReused):
        domain.same_request(t, "other")


def test_withdrawal_on_death_pays_the_whole_balance_to_the_heirs_and_closes():
    after, t, _ = account(8800).withdraw("E1", AT, TODAY)
    assert (after.status, after.balance_fen, after.closed_on) == (CLOSED, 0, TODAY)
    assert t.amount_fen == 8800 and t.balance_after_fen == 0
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", -8800),
        ("heirs:A1", 8800),
    ]


def test_transfer_out_moves_the_balance_to_clearing():
    after, t, _ = account(500).transfer_out("X", "320500", AT, TODAY)
    assert after.status == CLOSED and t.postings[1] == type(t.postings[1])(TRANSFER_CLEARING, 500)


@pytest.mark.parametrize(
    ("from_region", "to_region", "direction"),
    [
        ("370200", "320500", "out"),
        ("320500", "370200", "in"),
        ("370200", "370100", "within"),
        ("320500", "330100", "within"),
    ],
)
def test_transfer_direction_against_the_home_province(from_region, to_region, direction):
    assert domain.transfer_direction(from_region, to_region, "370000") == direction


def test_the_holder_needs_no_authorization():
    with pytest.raises(InvalidField):
        account().authorize([], HOLDER, "spouse", TODAY)


# --- the account's methods: the new state and the event it raises ---------------------------------


def test_opening_an_account_raises_account_opened():
    opened, event = Account.open("A9", HOLDER, "E9", "370200", TODAY)
    assert (opened.status, opened.balance_fen, opened.opened_on) == (OPEN, 0, TODAY)
    assert (
        event.account_id,
        event.person_id,
        event.enrollment_id,
        event.pooling_region,
        event.opened_on,
    ) == ("A9", HOLDER, "E9", "370200", TODAY)


def test_a_contribution_credit_is_keyed_by_the_payment_and_announced_with_the_balance_after():
    after, t, credited = account(500).credit("pay-1", 1300, AT, period="202610", rule_id="R-1")
    assert (t.transaction_id, t.kind, t.counterpart, t.reference) == (
        "contribution:pay-1",
        "credit",
        "fund:allocation",
        "pay-1",
    )
    assert after.balance_fen == t.balance_after_fen == credited.balance_after_fen == 1800
    assert (
        credited.transaction_id,
        credited.amount_fen,
        credited.payment_id,
        credited.period,
        credited.rule_id,
        credited.posted_at,
    ) == ("contribution:pay-1", 1300, "pay-1", "202610", "R-1", AT)


def test_a_debit_is_announced_with_the_merchant_the_spender_and_the_relation():
    after, t, debited = account(1000).debit(
        FAMILY, "POS-1", 400, "P370200001", "hospital", CHILD, AT, "h"
    )
    assert (t.transaction_id, t.reference, t.spender_person_id, t.request_hash) == (
        "client:P370200001:POS-1",
        "P370200001",
        CHILD,
        "h",
    )
    assert (
        debited.merchant_code,
        debited.merchant_kind,
        debited.spender_person_id,
        debited.relation,
        debited.balance_after_fen,
    ) == ("P370200001", "hospital", CHILD, "child", 600)
    assert after.balance_fen == 600


def test_the_holder_spends_without_a_relation_and_the_order_of_refusals():
    _, _, debited = account().debit([], "T", 1, "P370200001", "pharmacy", HOLDER, AT, "h")
    assert debited.relation is None
    with pytest.raises(domain.SpenderNotAuthorized):  # the spender before the amount
        account().debit([], "T", 0, "P370200001", "pharmacy", STRANGER, AT, "h")
    with pytest.raises(InvalidField):  # the amount before the balance
        account(0).debit([], "T", -5, "P370200001", "pharmacy", HOLDER, AT, "h")


def test_transfer_out_closes_the_account_with_the_posting_id_of_the_transfer():
    after, t, out = account(700).transfer_out("tr-1", "320500", AT, TODAY)
    assert (after.status, after.closed_reason, after.closed_on, after.balance_fen) == (
        CLOSED,
        "transferred_out",
        TODAY,
        0,
    )
    assert (t.transaction_id, t.kind, t.amount_fen, t.reference) == (
        "transfer-out:tr-1",
        "transfer_out",
        700,
        "tr-1",
    )
    assert (out.transfer_id, out.to_region, out.amount_fen, out.balance_after_fen) == (
        "tr-1",
        "320500",
        700,
        0,
    )
    with pytest.raises(domain.AccountClosed):
        after.transfer_out("tr-2", "320500", AT, TODAY)


def test_transfer_in_reopens_a_closed_account_in_the_new_region():
    closed, _, _ = account(700).transfer_out("tr-1", "320500", AT, TODAY)
    after, t, arrived = closed.transfer_in(
        "tb-1", "E2", "320500", "370100", 9100, AT, platform_reference="ZY1", entered_by="s1"
    )
    assert (after.status, after.closed_reason, after.closed_on) == (OPEN, None, None)
    assert (after.enrollment_id, after.pooling_region, after.balance_fen) == ("E2", "370100", 9100)
    assert (t.transaction_id, t.kind, t.counterpart) == (
        "transfer-in:tb-1",
        "transfer_in",
        TRANSFER_CLEARING,
    )
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", 9100),
        (TRANSFER_CLEARING, -9100),
    ]
    assert (
        arrived.from_region,
        arrived.to_region,
        arrived.amount_fen,
        arrived.balance_after_fen,
    ) == ("320500", "370100", 9100, 9100)
    # the platform's reference and who entered it, in the ledger and on the event
    assert (t.platform_reference, t.entered_by, t.region) == ("ZY1", "s1", "320500")
    assert (arrived.platform_reference, arrived.confirmed_by) == ("ZY1", "s1")
    assert arrived.ce_type == "chs.account.transferred-in.v2"


def test_transfer_in_adds_to_an_open_account():
    after, _, arrived = account(100).transfer_in(
        "tb-1", "E2", "320500", "370200", 50, AT, platform_reference="ZY1", entered_by="s1"
    )
    assert after.balance_fen == arrived.balance_after_fen == 150


def test_rehoming_within_the_province_moves_no_money():
    after = account(300).rehome("E3", "370100")
    assert (after.enrollment_id, after.pooling_region, after.balance_fen, after.status) == (
        "E3",
        "370100",
        300,
        OPEN,
    )


def test_a_transfer_within_the_province_moves_the_whole_balance_as_one_movement():
    after_debit, _, _ = pay(account(10000), 1200)
    after, t, moved = after_debit.transfer_within("tr-7", "E3", "370100", AT)
    assert (after.status, after.pooling_region, after.enrollment_id, after.balance_fen) == (
        OPEN,
        "370100",
        "E3",
        8800,
    )
    assert (t.transaction_id, t.kind, t.amount_fen, t.balance_after_fen, t.reference) == (
        "transfer-within:tr-7",
        "transfer_within",
        8800,
        8800,
        "tr-7",
    )
    # out of the account in Qingdao and into it in Jinan: two postings, the balance unchanged
    assert [(p.ledger_account, p.amount_fen) for p in t.postings] == [
        ("personal:A1", -8800),
        ("personal:A1", 8800),
    ]
    assert (moved.transfer_id, moved.from_region, moved.to_region) == ("tr-7", "370200", "370100")
    assert (moved.amount_fen, moved.balance_after_fen) == (8800, 8800)
    with pytest.raises(domain.AccountClosed):
        account(status=CLOSED).transfer_within("tr-8", "E3", "370100", AT)


def test_a_contribution_after_the_transfer_out_is_credited_and_forwarded():
    closed, closing, _ = account(700).transfer_out("tr-1", "320500", AT, TODAY)
    after, (credit, forward), credited, forwarded = closed.credit_and_forward(
        closing, "pay-9", 1300, AT, period="202611", rule_id="R"
    )
    assert (after.status, after.balance_fen) == (CLOSED, 0)
    assert (credit.transaction_id, credit.balance_after_fen) == ("contribution:pay-9", 1300)
    assert (forward.transaction_id, forward.kind, forward.amount_fen, forward.region) == (
        "transfer-out:tr-1:contribution:pay-9",
        "transfer_out",
        1300,
        "320500",
    )
    assert sum(p.amount_fen for t in (credit, forward) for p in t.postings) == 0
    assert (credited.amount_fen, credited.balance_after_fen) == (1300, 1300)
    assert (forwarded.transfer_id, forwarded.to_region, forwarded.amount_fen) == (
        "tr-1",
        "320500",
        1300,
    )
    assert forwarded.balance_after_fen == 0
    dead, withdrawal, _ = account(700).withdraw("E1", AT, TODAY)
    with pytest.raises(domain.AccountClosed):  # only a transfer's close forwards
        dead.credit_and_forward(withdrawal, "pay-9", 1300, AT, period="202611", rule_id="R")


def test_a_windows_key_is_posted_in_the_clients_namespace():
    """No key a window sends can be one of the ledger's own ids."""
    for key in ("contribution:pay-1", "transfer-out:tr-1", "withdrawal:E1", "POS-1"):
        _, t, _ = account().debit([], key, 1, "P370200001", "pharmacy", HOLDER, AT, "h")
        assert t.transaction_id == f"client:P370200001:{key}" and t.client_key == key
        assert t.transaction_id not in (
            model.contribution_posting("pay-1"),
            model.transfer_out_posting("tr-1"),
            model.withdrawal_posting("E1"),
        )


def test_withdrawal_is_keyed_by_the_enrollment_and_refused_on_a_closed_account():
    after, t, withdrawn = account(8800).withdraw("E1", AT, TODAY)
    assert t.transaction_id == "withdrawal:E1" and after.closed_reason == "death"
    assert (
        withdrawn.amount_fen,
        withdrawn.balance_after_fen,
        withdrawn.closed_on,
        withdrawn.reason,
    ) == (8800, 0, TODAY, "death")
    with pytest.raises(domain.AccountClosed):
        after.withdraw("E1", AT, TODAY)


def test_authorizing_a_family_member_once():
    member, authorized = account().authorize([], CHILD, "child", TODAY)
    assert member == FamilyMember("A1", CHILD, "child", TODAY)
    assert authorized is not None
    assert (authorized.member_person_id, authorized.relation, authorized.authorized_on) == (
        CHILD,
        "child",
        TODAY,
    )
    again, none = account().authorize(FAMILY, CHILD, "child", date(2026, 12, 1))
    assert again is FAMILY[0] and none is None
    with pytest.raises(InvalidField) as refused:
        account().authorize(FAMILY, CHILD, "spouse", TODAY)
    assert "already authorized as child" in refused.value.detail
    with pytest.raises(domain.AccountClosed):
        account(status=CLOSED).authorize([], CHILD, "child", TODAY)


def test_revoking_a_family_member_names_the_relation():
    member, revoked = account().revoke(FAMILY, CHILD, TODAY)
    assert member is FAMILY[0]
    assert (revoked.member_person_id, revoked.relation, revoked.revoked_on) == (
        CHILD,
        "child",
        TODAY,
    )
    with pytest.raises(domain.FamilyMemberNotFound) as refused:
        account().revoke(FAMILY, STRANGER, TODAY)
    assert domain_problem(refused.value)[0] == 404
