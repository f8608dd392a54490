"""Notices of the reimbursement business area (一站式结算 and 手工报销)."""

from datetime import UTC, date, datetime

import pytest

from chs_events.envelope import Envelope
from chs_events.events.notices import notice_id
from chs_events.events.reimbursement import (
    SETTLEMENT_REVERSAL_REASONS,
    ClaimApproved,
    ClaimPaid,
    ClaimRejected,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
    SplitLine,
)
from chs_events.topics import REIMBURSEMENT_EVENTS
from chs_progress_notices.rules import (
    BUSINESS_PARAMS,
    DIRECTORY_PARAMS,
    SOURCE_TOPICS,
    SOURCE_TYPES,
    notices_for,
)

pytestmark = pytest.mark.unit

PERSON = "p" + "d" * 32
REIMBURSEMENT_TEMPLATES = {
    "reimbursement.settled",
    "reimbursement.reversed",
    "reimbursement.claim_submitted",
    "reimbursement.claim_approved",
    "reimbursement.claim_rejected",
    "reimbursement.claim_paid",
}
VISIT = {
    "person_id": PERSON,
    "institution_code": "H37020000001",
    "institution_name": "青岛大学附属医院",
    "institution_level": 3,
    "institution_region": "370202",
    "visit_type": "inpatient",
    "admission_date": date(2026, 11, 10),
    "discharge_date": date(2026, 11, 20),
    "discharge_diagnoses": ["I21.9", "E11.9"],
    "total_fen": 2_345_678,
    "eligible_fen": 2_000_000,
    "ineligible_fen": 345_678,
    "invoice_no": "37020226000123",
}


def settled(**overrides) -> SettlementCompleted:
    fields = dict(
        **VISIT,
        settlement_id="S1",
        insutype="390",
        pooled_fund_fen=1_200_000,
        critical_illness_fen=300_000,
        medical_assistance_fen=50_000,
        personal_cash_fen=795_678,
        lines=[SplitLine(tier="pooled_fund", amount_fen=1_200_000, rule="起付线以上 60%")],
        settled_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
    )
    return SettlementCompleted(**{**fields, **overrides})


def one(event) -> tuple[str, dict[str, str]]:
    source = Envelope(event, source="/chs/reimbursement")
    [notice] = notices_for(source)
    assert notice.person_id == PERSON
    assert notice.category == "business_result" and notice.priority == "high"
    assert notice.notice_id == notice_id(source.id, notice.template_id, PERSON)
    assert set(notice.params) == BUSINESS_PARAMS[notice.template_id]
    return notice.template_id, notice.params


def rendered(template_id: str, params: dict[str, str], *, age: int = 40) -> str:
    templates = pytest.importorskip("chs_notification.templates")
    from chs_notification.domain import render

    return render(templates.get_template(template_id), {"name": "张三", **params}, age=age)


def test_processor_reads_the_reimbursement_topic():
    assert REIMBURSEMENT_EVENTS in SOURCE_TOPICS
    assert {
        SettlementCompleted.ce_type,
        SettlementReversed.ce_type,
        ClaimSubmitted.ce_type,
        ClaimApproved.ce_type,
        ClaimRejected.ce_type,
        ClaimPaid.ce_type,
    } <= SOURCE_TYPES


def test_a_settlement_tells_the_split_in_yuan():
    template_id, params = one(settled())
    assert (template_id, params) == (
        "reimbursement.settled",
        {
            "date": "2026-11-20",
            "institution": "青岛大学附属医院",
            "total": "23456.78",
            "pooled_fund": "12000.00",
            "critical_illness": "3000.00",
            "medical_assistance": "500.00",
            "personal_account": "",
            "personal_cash": "7956.78",
        },
    )
    assert rendered(template_id, params) == (
        "【中国医疗保障】尊敬的张三，您2026-11-20在青岛大学附属医院的医疗费用已结算："
        "总费用23456.78元，基本医保统筹支付12000.00元，大病保险支付3000.00元，"
        "医疗救助支付500.00元，个人支付7956.78元。"
    )
    assert rendered(template_id, params, age=75) == (
        "【中国医疗保障】张三在青岛大学附属医院看病共23456.78元，已结算，自己付7956.78元。"
    )


def test_a_settlement_the_personal_account_paid_part_of_tells_that_part():
    event = settled(
        insutype="310",
        visit_type="outpatient",
        admission_date=date(2026, 11, 3),
        discharge_date=None,
        personal_account_fen=95_678,
        personal_cash_fen=700_000,
    )
    template_id, params = one(event)
    assert (params["date"], params["personal_account"], params["personal_cash"]) == (
        "2026-11-03",
        "，个人账户支付956.78元",
        "7000.00",
    )
    assert rendered(template_id, params) == (
        "【中国医疗保障】尊敬的张三，您2026-11-03在青岛大学附属医院的医疗费用已结算："
        "总费用23456.78元，基本医保统筹支付12000.00元，大病保险支付3000.00元，"
        "医疗救助支付500.00元，个人账户支付956.78元，个人支付7000.00元。"
    )


@pytest.mark.parametrize("code", sorted(SETTLEMENT_REVERSAL_REASONS))
def test_every_reversal_code_is_told_by_its_text(code):
    event = SettlementReversed(
        person_id=PERSON,
        settlement_id="S1",
        invoice_no="37020226000123",
        institution_name="青岛大学附属医院",
        total_fen=100,
        pooled_fund_fen=0,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        reason_code=code,
        reversed_at=datetime(2026, 11, 20, 17, 30, tzinfo=UTC),
    )
    template_id, params = one(event)
    assert params["reason"] == SETTLEMENT_REVERSAL_REASONS[code]
    assert f"原因：{SETTLEMENT_REVERSAL_REASONS[code]}。" in rendered(template_id, params)


def test_a_reversal_tells_the_settlement_and_the_reason_on_the_day_in_china():
    event = SettlementReversed(
        person_id=PERSON,
        settlement_id="S1",
        invoice_no="37020226000123",
        institution_name="青岛大学附属医院",
        total_fen=2_345_678,
        pooled_fund_fen=1_200_000,
        critical_illness_fen=300_000,
        medical_assistance_fen=50_000,
        reason_code="settlement_data_error",
        reversed_at=datetime(2026, 11, 20, 17, 30, tzinfo=UTC),
    )
    template_id, params = one(event)
    assert (template_id, params) == (
        "reimbursement.reversed",
        {
            "institution": "青岛大学附属医院",
            "total": "23456.78",
            "invoice_no": "37020226000123",
            "reversed_on": "2026-11-21",
            "reason": "医院结算信息有误，已重新结算",
        },
    )
    assert rendered(template_id, params) == (
        "【中国医疗保障】尊敬的张三，您在青岛大学附属医院总费用23456.78元的医疗费用结算"
        "（发票号37020226000123）已于2026-11-21冲正撤销，原因：医院结算信息有误，已重新结算。"
        "如有疑问请咨询该医疗机构或当地医保经办机构。"
    )


def test_a_claim_is_acknowledged_with_its_invoice():
    event = ClaimSubmitted(**VISIT, claim_id="C1", submitted_on=date(2026, 11, 25))
    assert one(event) == ("reimbursement.claim_submitted", {"invoice_no": "37020226000123"})


def test_an_approved_claim_tells_what_the_funds_pay():
    event = ClaimApproved(
        person_id=PERSON,
        claim_id="C1",
        insutype="310",
        invoice_no="37020226000123",
        institution_name="北京协和医院",
        total_fen=2_345_678,
        eligible_fen=2_000_000,
        pooled_fund_fen=1_200_000,
        critical_illness_fen=300_000,
        medical_assistance_fen=50_001,
        personal_cash_fen=795_677,
    )
    template_id, params = one(event)
    assert (template_id, params) == (
        "reimbursement.claim_approved",
        {"invoice_no": "37020226000123", "total": "23456.78", "payable": "15500.01"},
    )
    assert rendered(template_id, params, age=70) == (
        "【中国医疗保障】张三的报销批了，医保给您报15500.01元。"
    )


@pytest.mark.parametrize(
    ("reason", "told"),
    [
        ("该发票已报销，不能重复报销", "该发票已报销，不能重复报销"),
        ("超过报销申请期限。", "超过报销申请期限"),
        ("  ", "未注明"),
    ],
)
def test_a_rejected_claim_tells_the_reason(reason, told):
    event = ClaimRejected(
        person_id=PERSON,
        claim_id="C1",
        invoice_no="37020226000123",
        rule="invoice_already_reimbursed",
        reason=reason,
    )
    template_id, params = one(event)
    assert (template_id, params) == (
        "reimbursement.claim_rejected",
        {"invoice_no": "37020226000123", "reason": told},
    )
    assert rendered(template_id, params) == (
        f"【中国医疗保障】尊敬的张三，您的手工报销申请（发票号37020226000123）未通过审核，"
        f"原因：{told}。如有疑问请咨询当地医保经办机构。"
    )


def test_a_paid_claim_tells_the_amount_and_the_day():
    event = ClaimPaid(
        person_id=PERSON,
        claim_id="C1",
        invoice_no="37020226000123",
        amount_fen=1_550_001,
        paid_on=date(2026, 12, 1),
        payment_reference="BANK-1",
    )
    template_id, params = one(event)
    assert (template_id, params) == (
        "reimbursement.claim_paid",
        {"amount": "15500.01", "invoice_no": "37020226000123", "paid_on": "2026-12-01"},
    )
    assert rendered(template_id, params) == (
        "【中国医疗保障】尊敬的张三，您的手工报销款15500.01元（发票号37020226000123）"
        "已于2026-12-01发放，请注意查收。"
    )


def test_templates_declare_exactly_the_params_and_read_well():
    templates = pytest.importorskip("chs_notification.templates")
    from chs_notification.domain import CHS_TAG, render

    assert (
        {t for t in templates.TEMPLATES if t.startswith("reimbursement.")}
        == REIMBURSEMENT_TEMPLATES
        == {t for t in BUSINESS_PARAMS if t.startswith("reimbursement.")}
    )
    for template_id in REIMBURSEMENT_TEMPLATES:
        template = templates.get_template(template_id)
        assert template.business_area == "reimbursement"
        assert template.category == "business_result"
        assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == set(template.params)
        assert DIRECTORY_PARAMS[template_id] == {"name"}
        assert templates.placeholders(template.text) == set(template.params)
        assert len(template.elderly_text) < len(template.text)
        for age in (30, 75):
            message = render(template, {p: f"<{p}>" for p in template.params}, age=age)
            assert message.startswith(CHS_TAG) and "{" not in message
