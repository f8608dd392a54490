"""Notices of the outpatient chronic / special disease business area (门诊慢特病)."""

from datetime import date

import pytest

from chs_events.envelope import Envelope
from chs_events.events.chronic import (
    CHRONIC_REVOCATION_REASONS,
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
)
from chs_events.events.notices import notice_id
from chs_events.topics import CHRONIC_EVENTS
from chs_progress_notices.rules import (
    BUSINESS_PARAMS,
    DIRECTORY_PARAMS,
    SOURCE_TOPICS,
    SOURCE_TYPES,
    notices_for,
)

pytestmark = pytest.mark.unit

PERSON = "p" + "c" * 32
CHRONIC_TEMPLATES = {
    "chronic.certified",
    "chronic.auto_certified",
    "chronic.pending_review",
    "chronic.rejected",
    "chronic.expired",
    "chronic.revoked",
    "chronic.auto_revoked",
}


def certified(**overrides) -> ChronicCertified:
    fields = {
        "person_id": PERSON,
        "certification_id": "c-1",
        "condition_code": "t2dm",
        "condition_name": "2型糖尿病",
        "source": "application",
        "application_id": "a-1",
        "diagnosis_codes": ["E11.9"],
        "institution_code": "H1",
        "institution_name": "寿光市人民医院",
        "valid_from": date(2026, 11, 20),
        "valid_until": date(2028, 11, 19),
        "annual_cap_fen": 400000,
        "pay_ratio_permille": 600,
    }
    return ChronicCertified(**{**fields, **overrides})


def applied(**overrides) -> ChronicApplied:
    fields = {
        "person_id": PERSON,
        "application_id": "a-1",
        "institution_code": "H1",
        "institution_name": "寿光市人民医院",
        "discharge_date": date(2026, 11, 20),
        "diagnosis_codes": ["M05.3"],
        "condition_code": "rheumatoid_arthritis",
        "condition_name": "类风湿关节炎",
        "status": "pending_review",
        "review_reason": "类风湿关节炎需经医保经办机构审核",
    }
    return ChronicApplied(**{**fields, **overrides})


def one(event) -> tuple[str, dict[str, str]]:
    source = Envelope(event, source="/chs/chronic")
    [notice] = notices_for(source)
    assert notice.person_id == PERSON
    assert notice.category == "business_result" and notice.priority == "high"
    assert notice.notice_id == notice_id(source.id, notice.template_id, PERSON)
    assert set(notice.params) == BUSINESS_PARAMS[notice.template_id]
    return notice.template_id, notice.params


def test_processor_reads_the_chronic_topic():
    assert CHRONIC_EVENTS in SOURCE_TOPICS
    assert {
        ChronicApplied.ce_type,
        ChronicCertified.ce_type,
        ChronicRejected.ce_type,
        ChronicRevoked.ce_type,
    } <= SOURCE_TYPES


def test_certified_by_application():
    assert one(certified()) == (
        "chronic.certified",
        {"condition_name": "2型糖尿病", "valid_from": "2026-11-20", "valid_until": "2028-11-19"},
    )


def test_certified_by_a_reviewer_reads_the_same():
    assert one(certified(source="review"))[0] == "chronic.certified"


def test_auto_certified_without_application():
    event = certified(
        source="auto",
        application_id=None,
        settlement_id="S1",
        condition_code="malignant_tumour",
        condition_name="恶性肿瘤门诊治疗",
        diagnosis_codes=["C34.1"],
        institution_name="潍坊市人民医院",
    )
    assert one(event) == (
        "chronic.auto_certified",
        {
            "discharge_date": "2026-11-20",
            "institution_name": "潍坊市人民医院",
            "condition_name": "恶性肿瘤门诊治疗",
            "valid_until": "2028-11-19",
        },
    )


def test_queued_application_is_acknowledged_and_a_decided_one_is_not():
    assert one(applied()) == (
        "chronic.pending_review",
        {"institution_name": "寿光市人民医院", "condition_name": "“类风湿关节炎”"},
    )
    assert one(applied(condition_code=None, condition_name=None))[1]["condition_name"] == ""
    assert (
        notices_for(Envelope(applied(status="decided", review_reason=None), source="/chs/chronic"))
        == []
    )


def test_rejected_with_the_reason():
    event = ChronicRejected(
        person_id=PERSON,
        application_id="a-1",
        condition_code="t2dm",
        condition_name="2型糖尿病",
        rule="evidence_missing",
        reason="缺少检验报告",
        decided_by="rules",
    )
    assert one(event) == (
        "chronic.rejected",
        {"condition_name": "“2型糖尿病”", "reason": "缺少检验报告"},
    )


def test_expired_and_revoked():
    ended = {
        "person_id": PERSON,
        "certification_id": "c-1",
        "condition_code": "t2dm",
        "condition_name": "2型糖尿病",
        "ended_on": date(2028, 11, 19),
    }
    assert one(ChronicRevoked(**ended, reason="expired")) == (
        "chronic.expired",
        {"condition_name": "2型糖尿病", "ended_on": "2028-11-19"},
    )
    assert one(
        ChronicRevoked(**ended, reason="revoked", revocation_code="diagnosis_not_supported")
    ) == (
        "chronic.revoked",
        {"condition_name": "2型糖尿病", "ended_on": "2028-11-19", "reason": "复核发现诊断依据不足"},
    )


@pytest.mark.parametrize("code", sorted(CHRONIC_REVOCATION_REASONS))
def test_every_revocation_code_is_told_by_its_text(code):
    event = ChronicRevoked(
        person_id=PERSON,
        certification_id="c-1",
        condition_code="t2dm",
        condition_name="2型糖尿病",
        ended_on=date(2028, 11, 19),
        reason="revoked",
        revocation_code=code,
    )
    assert one(event)[1]["reason"] == CHRONIC_REVOCATION_REASONS[code]


def test_a_certification_revoked_for_its_reversed_settlement_says_so():
    event = ChronicRevoked(
        person_id=PERSON,
        certification_id="c-1",
        condition_code="t2dm",
        condition_name="2型糖尿病",
        ended_on=date(2026, 11, 23),
        reason="revoked",
        revocation_code="settlement_reversed",
    )
    assert one(event) == (
        "chronic.auto_revoked",
        {"condition_name": "2型糖尿病", "ended_on": "2026-11-23"},
    )
    templates = pytest.importorskip("chs_notification.templates")
    text = templates.get_template("chronic.auto_revoked").text
    assert "冲正" in text and "免申" in text


def test_templates_declare_exactly_the_params_and_read_well():
    templates = pytest.importorskip("chs_notification.templates")
    from chs_notification.domain import CHS_TAG, render

    for template_id in CHRONIC_TEMPLATES:
        template = templates.get_template(template_id)
        assert template.business_area == "chronic" and template.category == "business_result"
        assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == set(template.params)
        assert DIRECTORY_PARAMS[template_id] == {"name"}
        assert templates.placeholders(template.text) == set(template.params)
        assert len(template.elderly_text) < len(template.text)
        for age in (30, 75):
            message = render(template, {p: f"<{p}>" for p in template.params}, age=age)
            assert message.startswith(CHS_TAG) and "{" not in message
