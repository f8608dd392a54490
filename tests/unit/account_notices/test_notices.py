"""Notices of the personal account (个人账户收支实时告知) by themselves, in their own category:
what the progress-notice processor made before the account-notice processor took them over.
No I/O."""

from datetime import UTC, datetime

import pytest

from chs_account_notices.rules import (
    BUSINESS_PARAMS,
    DIRECTORY_PARAMS,
    SOURCE_TOPICS,
    notices_for,
)
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountOpened,
    AccountTransferredOut,
    AccountWithdrawn,
    FamilyMemberAuthorized,
)
from chs_events.topics import ACCOUNT_EVENTS
from chs_notification.templates import TEMPLATES, Category

pytestmark = pytest.mark.unit

HOLDER, CHILD = "p" + "a" * 32, "p" + "b" * 32
AT = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)  # 2026-11-23 01:30 in China
MONEY = {"person_id": HOLDER, "account_id": "A1", "transaction_id": "T1", "posted_at": AT}


def notices(event):
    return notices_for(Envelope(event, source="/chs/accounts"))


def only(event):
    [notice] = notices(event)
    return notice


def test_the_processor_reads_the_account_topic():
    assert ACCOUNT_EVENTS in SOURCE_TOPICS


def test_a_credit_tells_the_amount_and_the_balance_in_the_account_category():
    notice = only(
        AccountCredited(
            **MONEY,
            amount_fen=18850,
            balance_after_fen=37700,
            payment_id="pay-1",
            period="202610",
            rule_id="R",
        )
    )
    assert (notice.person_id, notice.template_id, notice.category, notice.priority) == (
        HOLDER,
        "account.credited",
        "account",
        "high",
    )
    assert notice.params == {
        "posted_on": "2026-11-23",
        "amount_yuan": "188.50",
        "period_text": "2026年10月",
        "balance_yuan": "377.00",
    }


@pytest.mark.parametrize(
    ("relation", "spender"), [(None, "本人"), ("child", "家庭共济成员（子女）")]
)
def test_a_debit_tells_the_holder_who_spent_and_the_balance_after(relation, spender):
    notice = only(
        AccountDebited(
            **MONEY,
            amount_fen=4650,
            balance_after_fen=5350,
            merchant_code="P370200001",
            merchant_kind="pharmacy",
            spender_person_id=CHILD if relation else HOLDER,
            relation=relation,
        )
    )
    assert notice.person_id == HOLDER and notice.category == "account"
    assert notice.params == {
        "posted_on": "2026-11-23",
        "spender": spender,
        "merchant_kind_name": "定点药店",
        "amount_yuan": "46.50",
        "balance_yuan": "53.50",
    }


def test_transfer_out_and_family_authorization():
    out = only(
        AccountTransferredOut(
            **MONEY, amount_fen=4400, balance_after_fen=0, transfer_id="t", to_region="320500"
        )
    )
    assert out.params == {"to_region_name": "苏州市", "amount_yuan": "44.00"}
    authorized = only(
        FamilyMemberAuthorized(
            person_id=HOLDER,
            account_id="A1",
            member_person_id=CHILD,
            relation="parent_in_law",
            authorized_on=AT.date(),
        )
    )
    assert authorized.params == {"relation_name": "配偶的父母"}


def test_opening_and_withdrawal_at_death_tell_nothing():
    assert (
        notices(
            AccountOpened(
                person_id=HOLDER,
                account_id="A1",
                enrollment_id="E1",
                pooling_region="370200",
                opened_on=AT.date(),
            )
        )
        == []
    )
    assert (
        notices(AccountWithdrawn(**MONEY, amount_fen=1, balance_after_fen=0, closed_on=AT.date()))
        == []
    )


def test_every_account_template_is_an_account_message_with_its_params_filled():
    account_templates = {t for t in TEMPLATES if t.startswith("account.")}
    assert account_templates == {t for t in BUSINESS_PARAMS if t.startswith("account.")}
    for template_id in account_templates:
        template = TEMPLATES[template_id]
        assert template.category is Category.ACCOUNT
        assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == set(template.params)
