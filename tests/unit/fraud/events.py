"""The events the fraud processor reads, built with what a test changes (the rest a Qingdao
person's ordinary visit, payment or record)."""

import secrets
from datetime import UTC, date, datetime, time
from typing import Any

from chs_events.envelope import Envelope
from chs_events.events.account import AccountDebited, AccountOpened
from chs_events.events.base import Event
from chs_events.events.feeds import AccidentCaseRecorded, DeathCorrected, DeathRecorded
from chs_events.events.maternity import MaternityAllowancePaid
from chs_events.events.reimbursement import (
    ClaimPaid,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
)

HOSPITAL = "H37020200017"
QINGDAO_DISTRICT = "370202"


def new_person() -> str:
    return "p" + secrets.token_hex(16)


def _visit(person_id: str, day: date, **overrides: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "institution_code": HOSPITAL,
        "institution_name": "青岛市市立医院",
        "institution_level": 3,
        "institution_region": QINGDAO_DISTRICT,
        "visit_type": "outpatient",
        "admission_date": day,
        "discharge_diagnoses": ["J06.9"],
        "total_fen": 50_000,
        "eligible_fen": 40_000,
        "ineligible_fen": 10_000,
        "invoice_no": "INV" + secrets.token_hex(6),
        **overrides,
    }


def settlement(person_id: str, day: date, **overrides: Any) -> SettlementCompleted:
    """An outpatient settlement: the pooled fund pays 24,000 fen, the account 6,000."""
    fields = {
        **_visit(person_id, day),
        "settlement_id": "S" + secrets.token_hex(8),
        "insutype": "310",
        "pooled_fund_fen": 24_000,
        "critical_illness_fen": 0,
        "medical_assistance_fen": 0,
        "personal_account_fen": 6_000,
        "personal_cash_fen": 20_000,
        "settled_at": datetime.combine(day, time(2, 0), tzinfo=UTC),
        **overrides,
    }
    return SettlementCompleted(**fields)


def reversal(settled: SettlementCompleted) -> SettlementReversed:
    return SettlementReversed(
        person_id=settled.person_id,
        settlement_id=settled.settlement_id,
        invoice_no=settled.invoice_no,
        institution_name=settled.institution_name,
        total_fen=settled.total_fen,
        pooled_fund_fen=settled.pooled_fund_fen,
        critical_illness_fen=settled.critical_illness_fen,
        medical_assistance_fen=settled.medical_assistance_fen,
        reason_code="settlement_data_error",
        reversed_at=settled.settled_at,
    )


def claim(person_id: str, day: date, **overrides: Any) -> ClaimSubmitted:
    return ClaimSubmitted(
        **{
            **_visit(person_id, day),
            "claim_id": "C" + secrets.token_hex(8),
            "submitted_on": day,
            **overrides,
        }
    )


def claim_paid(submitted: ClaimSubmitted, paid_on: date, amount_fen: int = 30_000) -> ClaimPaid:
    return ClaimPaid(
        person_id=submitted.person_id,
        claim_id=submitted.claim_id,
        invoice_no=submitted.invoice_no,
        amount_fen=amount_fen,
        paid_on=paid_on,
        payment_reference="PAY" + secrets.token_hex(4),
    )


def account_opened(person_id: str, region: str = "370200") -> AccountOpened:
    return AccountOpened(
        person_id=person_id,
        account_id="A" + secrets.token_hex(6),
        enrollment_id="E" + secrets.token_hex(6),
        pooling_region=region,
        opened_on=date(2020, 1, 1),
    )


def debit(person_id: str, day: date, amount_fen: int = 8_800) -> AccountDebited:
    """A pharmacy debit by someone else with the holder's card (the spender: another id)."""
    return AccountDebited(
        person_id=person_id,
        account_id="A" + person_id[:8],
        transaction_id="T" + secrets.token_hex(8),
        amount_fen=amount_fen,
        balance_after_fen=100_000,
        posted_at=datetime.combine(day, time(10, 0), tzinfo=UTC),
        merchant_code="M370202000001",
        merchant_kind="pharmacy",
        spender_person_id=new_person(),
    )


def allowance_paid(
    person_id: str, day: date, amount_fen: int = 1_200_000
) -> MaternityAllowancePaid:
    return MaternityAllowancePaid(
        person_id=person_id,
        allowance_id="MA" + secrets.token_hex(6),
        amount_fen=amount_fen,
        paid_on=day,
        payment_reference="PAY" + secrets.token_hex(4),
    )


def death(person_id: str, day: date, region: str = QINGDAO_DISTRICT) -> DeathRecorded:
    return DeathRecorded(
        person_id=person_id,
        record_id="D" + secrets.token_hex(8),
        date_of_death=day,
        source="civil_affairs",
        region_code=region,
    )


def corrected(recorded: DeathRecorded, day: date) -> DeathCorrected:
    return DeathCorrected(
        person_id=recorded.person_id,
        record_id="D" + secrets.token_hex(8),
        previous_record_id=recorded.record_id,
        previous_date_of_death=recorded.date_of_death,
        date_of_death=day,
        source="health",
        region_code=recorded.region_code,
    )


def accident(person_id: str, day: date, region: str = QINGDAO_DISTRICT) -> AccidentCaseRecorded:
    return AccidentCaseRecorded(
        person_id=person_id,
        case_id="AC" + secrets.token_hex(6),
        accident_date=day,
        source="traffic_police",
        liable_party="鲁B12345",
        region_code=region,
    )


def envelope(event: Event) -> Envelope:
    source = "/chs/feeds" if event.producer == "feeds" else f"/chs/{event.producer}"
    return Envelope(event, source=source)
