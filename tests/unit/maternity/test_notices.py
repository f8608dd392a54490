"""The maternity notices: which template and params each maternity result asks for."""

from datetime import date

from chs_events.envelope import Envelope
from chs_events.events.maternity import (
    MaternityAllowanceApproved,
    MaternityAllowanceCancelled,
    MaternityAllowancePaid,
    MaternityRecoveryRaised,
)
from chs_notification.domain import CHS_TAG, render
from chs_notification.templates import TEMPLATES, get_template, placeholders
from chs_progress_notices.rules import BUSINESS_PARAMS, DIRECTORY_PARAMS, notices_for

PERSON = "p" + "a" * 32


def approved(source: str) -> MaternityAllowanceApproved:
    return MaternityAllowanceApproved(
        person_id=PERSON,
        allowance_id="A1",
        source=source,
        settlement_id="S1" if source == "auto" else None,
        application_id=None if source == "auto" else "AP1",
        employer_id="E1",
        kind="birth",
        event_date=date(2026, 11, 20),
        babies=1,
        difficult_birth=True,
        leave_days=113,
        monthly_wage_fen=750_000,
        daily_wage_fen=25_000,
        amount_fen=2_825_000,
    )


def test_an_allowance_without_application_reads_in_yuan():
    [notice] = notices_for(Envelope(approved("auto"), source="/chs/maternity"))
    assert notice.template_id == "maternity.auto_approved"
    assert notice.params == {"event_date": "2026-11-20", "leave_days": "113", "amount": "28250.00"}
    text = get_template(notice.template_id).text.format(name="张丽", **notice.params)
    assert "113天，共28250.00元" in text


def test_an_approved_application_and_the_payment():
    [notice] = notices_for(Envelope(approved("application"), source="/chs/maternity"))
    assert (notice.template_id, notice.params) == (
        "maternity.approved",
        {"leave_days": "113", "amount": "28250.00"},
    )
    [paid] = notices_for(
        Envelope(
            MaternityAllowancePaid(
                person_id=PERSON,
                allowance_id="A1",
                amount_fen=2_825_000,
                paid_on=date(2026, 12, 1),
                payment_reference="BANK-1",
            ),
            source="/chs/maternity",
        )
    )
    assert (paid.template_id, paid.params) == (
        "maternity.paid",
        {"amount": "28250.00", "paid_on": "2026-12-01"},
    )


def test_an_allowance_cancelled_by_a_reversed_settlement_is_told_with_its_amount():
    [notice] = notices_for(
        Envelope(
            MaternityAllowanceCancelled(
                person_id=PERSON,
                allowance_id="A1",
                settlement_id="S1",
                event_date=date(2026, 11, 20),
                amount_fen=2_825_000,
                reason="settlement_reversed",
                reversal_reason_code="settlement_data_error",
            ),
            source="/chs/maternity",
        )
    )
    assert (notice.person_id, notice.template_id, notice.params) == (
        PERSON,
        "maternity.cancelled",
        {"event_date": "2026-11-20", "amount": "28250.00"},
    )
    text = get_template(notice.template_id).text.format(name="张丽", **notice.params)
    assert "2026-11-20" in text and "28250.00元" in text and "取消" in text


def test_a_recovery_item_is_told_to_the_person_with_the_amount_to_return():
    [notice] = notices_for(
        Envelope(
            MaternityRecoveryRaised(
                person_id=PERSON,
                recovery_id="R1",
                allowance_id="A1",
                settlement_id="S1",
                event_date=date(2026, 11, 20),
                amount_fen=2_825_000,
                payment_reference="BANK-1",
                region="370202",
                reversal_reason_code="duplicate_settlement",
            ),
            source="/chs/maternity",
        )
    )
    assert (notice.person_id, notice.template_id, notice.params) == (
        PERSON,
        "maternity.recovery_raised",
        {"event_date": "2026-11-20", "amount": "28250.00"},
    )
    text = get_template(notice.template_id).text.format(name="张丽", **notice.params)
    assert "28250.00元" in text and "退回" in text and "BANK-1" not in text


def test_every_maternity_template_has_its_rule_params_and_an_elderly_variant():
    maternity = {t for t in TEMPLATES if t.startswith("maternity.")}
    assert maternity == {t for t in BUSINESS_PARAMS if t.startswith("maternity.")}
    assert {"maternity.cancelled", "maternity.recovery_raised"} <= maternity
    for template_id in maternity:
        template = get_template(template_id)
        assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == set(template.params)
        assert DIRECTORY_PARAMS[template_id] == {"name"}
        assert placeholders(template.text) == set(template.params)
        assert len(template.elderly_text) < len(template.text)
        for age in (30, 75):
            message = render(template, {p: f"<{p}>" for p in template.params}, age=age)
            assert message.startswith(CHS_TAG) and "{" not in message
