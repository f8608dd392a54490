"""Reasons an SMS tells are codes of closed lists, each with its text in one place."""

from typing import get_args

import pytest

from chs_events.events.chronic import (
    CHRONIC_REFUSAL_REASONS,
    CHRONIC_REVOCATION_REASONS,
    ChronicRefusalReason,
    ChronicRevocationReason,
)
from chs_events.events.reimbursement import (
    SETTLEMENT_REVERSAL_REASONS,
    SettlementReversalReason,
)
from chs_events.events.transfer import TRANSFER_REJECTION_REASONS, TransferRejectionReason

pytestmark = pytest.mark.unit

CLOSED_LISTS = [
    (TransferRejectionReason, TRANSFER_REJECTION_REASONS),
    (SettlementReversalReason, SETTLEMENT_REVERSAL_REASONS),
    (ChronicRefusalReason, CHRONIC_REFUSAL_REASONS),
    (ChronicRevocationReason, CHRONIC_REVOCATION_REASONS),
]


@pytest.mark.parametrize(("codes", "texts"), CLOSED_LISTS)
def test_every_code_has_one_text_and_every_text_a_code(codes, texts):
    assert set(texts) == set(get_args(codes))
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize(("codes", "texts"), CLOSED_LISTS)
def test_texts_are_short_chinese_clauses_fit_for_the_templates(codes, texts):
    for code, text in texts.items():
        assert code.isascii() and code == code.lower(), code
        assert 0 < len(text) <= 30, text
        assert not text.endswith(("。", "，", "；", ".")), text  # the template ends the sentence
        assert "{" not in text and "}" not in text, text


def test_the_texts_the_sms_tells_for_the_codes_the_demos_use():
    assert TRANSFER_REJECTION_REASONS["arrears_unpaid"] == "存在欠缴月份，需补缴后再办理"
    assert TRANSFER_REJECTION_REASONS["no_employer_in_region"] == "转入地无在职参保单位"
    assert SETTLEMENT_REVERSAL_REASONS["settlement_data_error"] == "医院结算信息有误，已重新结算"
    assert CHRONIC_REVOCATION_REASONS["diagnosis_not_supported"] == "复核发现诊断依据不足"
