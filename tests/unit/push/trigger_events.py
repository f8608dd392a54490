"""The events push's triggers fire on, and the chronic applications a profile keeps, built with
what a test changes (the rest an ordinary Qingdao application or inpatient settlement)."""

import secrets
from datetime import UTC, date, datetime, timedelta

from chs_events.events.chronic import ChronicApplied, ChronicCertified, ChronicRejected
from chs_events.events.reimbursement import SettlementCompleted

DISCHARGED = date(2026, 3, 1)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


def applied(
    person_id: str, condition: str | None = "hypertension", application_id: str | None = None
) -> ChronicApplied:
    return ChronicApplied(
        person_id=person_id,
        application_id=application_id or new_id("A"),
        institution_code="H37020200017",
        institution_name="青岛市市立医院",
        discharge_date=DISCHARGED,
        diagnosis_codes=["I10"],
        condition_code=condition,
        condition_name=None if condition is None else condition,
        status="pending_review" if condition is None else "decided",
    )


def rejected(person_id: str, application_id: str, condition: str = "hypertension"):
    return ChronicRejected(
        person_id=person_id,
        application_id=application_id,
        condition_code=condition,
        condition_name=condition,
        rule="criteria_not_met",
        reason="检验检查结果未达到该病种认定标准",
        decided_by="review",
    )


def certified(
    person_id: str,
    condition: str = "t2dm",
    *,
    certification_id: str | None = None,
    application_id: str | None = None,
    diagnoses: tuple[str, ...] = ("E11.9",),
) -> ChronicCertified:
    return ChronicCertified(
        person_id=person_id,
        certification_id=certification_id or new_id("C"),
        condition_code=condition,
        condition_name=condition,
        source="application" if application_id else "auto",
        application_id=application_id,
        diagnosis_codes=list(diagnoses),
        institution_code="H37020200017",
        institution_name="青岛市市立医院",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 12, 31),
        annual_cap_fen=400_000,
        pay_ratio_permille=600,
    )


def settlement(
    person_id: str, *diagnoses: str, settlement_id: str | None = None
) -> SettlementCompleted:
    settled = settlement_id or new_id("S")
    return SettlementCompleted(
        person_id=person_id,
        settlement_id=settled,
        insutype="310",
        institution_code="H37020200017",
        institution_name="青岛市市立医院",
        institution_level=3,
        institution_region="370202",
        visit_type="inpatient",
        admission_date=DISCHARGED - timedelta(days=8),
        discharge_date=DISCHARGED,
        discharge_diagnoses=list(diagnoses),
        total_fen=1_200_000,
        eligible_fen=1_000_000,
        ineligible_fen=200_000,
        pooled_fund_fen=700_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        personal_cash_fen=500_000,
        invoice_no=f"INV-{settled}",
        settled_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
    )
