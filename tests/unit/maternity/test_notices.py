"""The maternity notices: which template and params each maternity result asks for."""

from datetime import date

from chs_events.envelope import Envelope
from chs_events.events.maternity import MaternityAllowanceApproved, MaternityAllowancePaid
from chs_notification.templates import get_template
from chs_progress_notices.rules import notices_for

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
