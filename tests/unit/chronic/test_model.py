"""The aggregates' state changes: each returns the new state and the event(s) it raises."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chs_chronic.catalog import Condition, load_catalog
from chs_chronic.commands import (
    CertifyFromSettlement,
    DecideApplication,
    Evidence,
    SubmitApplication,
)
from chs_chronic.domain import AlreadyCertified, NotActive, NotPending, StillValid
from chs_chronic.model import Application, Certification
from chs_events.errors import InvalidField
from chs_events.events.chronic import (
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
)

pytestmark = pytest.mark.unit

CATALOG = load_catalog()
AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TODAY = AT.date()
LAB = Evidence("lab_report", "LIS-1")


def condition(code: str) -> Condition:
    found = CATALOG.get(code)
    assert found is not None
    return found


def submit(*diagnoses: str, evidence=(LAB,), condition=None, active=frozenset()):
    return Application.submit(
        SubmitApplication(
            "p1",
            "H1",
            "寿光市人民医院",
            "D1",
            "王医生",
            TODAY,
            diagnoses,
            tuple(evidence),
            condition,
        ),
        CATALOG,
        active,
        AT,
    )


# The settlement a grant without application is made on: person p1 at hospital H1.
SETTLEMENT = CertifyFromSettlement("p1", "S1", "H1", "医院", grants=())


def certification() -> Certification:
    granted, _ = Certification.grant(
        condition("t2dm"),
        SETTLEMENT,
        source="auto",
        diagnoses=["E11.9"],
        valid_from=date(2024, 11, 1),
        at=AT,
        settlement_id="S1",
    )
    return granted


def test_a_certified_application_raises_applied_then_certified():
    application, certification, events = submit("E11.9", "I10", condition="t2dm")
    assert (application.status, application.decided_by, application.decided_at) == (
        "certified",
        "rules",
        AT,
    )
    assert certification is not None
    assert application.certification_id == certification.certification_id
    assert (
        certification.source,
        certification.application_id,
        certification.diagnosis_codes,
        certification.valid_until,
    ) == ("application", application.application_id, ("E11.9",), date(2028, 11, 21))
    applied, certified = events
    assert isinstance(applied, ChronicApplied) and applied.status == "decided"
    assert isinstance(certified, ChronicCertified)
    assert certified.certification_id == certification.certification_id


def test_a_refused_application_raises_applied_then_rejected():
    application, certification, events = submit("E11.9", evidence=())
    assert (application.status, application.rule, certification) == (
        "rejected",
        "evidence_missing",
        None,
    )
    applied, rejected = events
    assert isinstance(applied, ChronicApplied)
    assert isinstance(rejected, ChronicRejected)
    assert (rejected.rule, rejected.decided_by, rejected.condition_name) == (
        "evidence_missing",
        "rules",
        condition("t2dm").name,
    )


def test_a_queued_application_raises_applied_only():
    application, certification, events = submit("I10", "E11.9")
    assert (application.status, application.decided_at, application.decided_by, certification) == (
        "pending_review",
        None,
        None,
        None,
    )
    [applied] = events
    assert (applied.status, applied.review_reason) == ("pending_review", application.reason)


def test_submitting_an_already_certified_condition_is_refused():
    with pytest.raises(AlreadyCertified):
        submit("E11.9", active={"t2dm"})


def test_a_reviewer_certifies_a_queued_application():
    queued, _, _ = submit("I10", "E11.9")
    decided, certification, event = queued.decide(
        DecideApplication(queued.application_id, "certify", "R1", condition_code="hypertension"),
        CATALOG,
        set(),
        AT,
    )
    assert (decided.status, decided.condition_code, decided.decided_by) == (
        "certified",
        "hypertension",
        "R1",
    )
    assert certification is not None and certification.source == "review"
    assert certification.diagnosis_codes == ("I10",)
    assert isinstance(event, ChronicCertified) and event.source == "review"
    assert queued.status == "pending_review"  # the old state is unchanged


def test_a_reviewer_refuses_a_queued_application():
    queued, _, _ = submit("I10", "E11.9")
    decided, certification, event = queued.decide(
        DecideApplication(
            queued.application_id, "reject", "R1", reason_code="diagnosis_not_supported"
        ),
        CATALOG,
        set(),
        AT,
    )
    assert (decided.status, decided.rule, decided.reason, certification) == (
        "rejected",
        "review_refused",
        "诊断依据不足",
        None,
    )
    assert isinstance(event, ChronicRejected)
    assert (event.decided_by, event.reason) == ("review", "诊断依据不足")
    with pytest.raises(InvalidField):
        queued.decide(DecideApplication(queued.application_id, "reject", "R1"), CATALOG, set(), AT)


def test_only_a_queued_application_is_decided():
    decided, _, _ = submit("E11.9")
    with pytest.raises(NotPending) as refused:
        decided.decide(
            DecideApplication(decided.application_id, "certify", "R1"), CATALOG, set(), AT
        )
    assert refused.value.extensions == {"status_now": "certified"}


def test_a_settlement_grant_is_auto_and_valid_for_the_condition_months():
    granted, event = Certification.grant(
        condition("t2dm"),
        SETTLEMENT,
        source="auto",
        diagnoses=["E11.9"],
        valid_from=date(2026, 11, 20),
        at=AT,
        settlement_id="S1",
    )
    assert (granted.status, granted.valid_from, granted.valid_until, granted.certified_at) == (
        "active",
        date(2026, 11, 20),
        date(2028, 11, 19),
        AT,
    )
    assert isinstance(event, ChronicCertified)
    assert (event.source, event.settlement_id, event.application_id, event.annual_cap_fen) == (
        "auto",
        "S1",
        None,
        granted.annual_cap_fen,
    )


def test_revoking_ends_an_active_certification_once():
    with pytest.raises(InvalidField):
        certification().revoke("复核发现诊断依据不足", TODAY)  # type: ignore[arg-type]
    revoked, event = certification().revoke("diagnosis_not_supported", TODAY)
    assert (revoked.status, revoked.ended_on, revoked.end_reason) == (
        "revoked",
        TODAY,
        "diagnosis_not_supported",
    )
    assert isinstance(event, ChronicRevoked)
    assert (event.reason, event.ended_on, event.revocation_code) == (
        "revoked",
        TODAY,
        "diagnosis_not_supported",
    )
    with pytest.raises(NotActive) as again:
        revoked.revoke("at_own_request", TODAY)
    assert again.value.extensions == {"status_now": "revoked"}


def test_expiring_ends_on_the_last_valid_day_once_it_passed():
    current = certification()  # valid until 2026-10-31
    expired, event = current.expire(TODAY)
    assert (expired.status, expired.ended_on, expired.end_reason) == (
        "expired",
        date(2026, 10, 31),
        "validity ended",
    )
    assert (event.reason, event.ended_on, event.revocation_code) == (
        "expired",
        date(2026, 10, 31),
        None,
    )
    with pytest.raises(NotActive):
        expired.expire(TODAY)
    with pytest.raises(StillValid):
        replace(current, valid_until=TODAY).expire(TODAY)


# --- a reversed settlement (冲正) ----------------------------------------------------------------


def test_a_reversed_settlement_revokes_the_auto_certification_resting_on_it_alone():
    current = certification()  # auto, from S1
    change = current.settlement_reversed(supporting={"S1"}, reversed_={"S1"}, on=TODAY)
    assert change is not None
    revoked, event = change
    assert (revoked.status, revoked.ended_on, revoked.end_reason) == (
        "revoked",
        TODAY,
        "settlement_reversed",
    )
    assert isinstance(event, ChronicRevoked)
    assert (event.certification_id, event.reason, event.ended_on, event.revocation_code) == (
        current.certification_id,
        "revoked",
        TODAY,
        "settlement_reversed",
    )
    # the granting settlement itself counts even when no other is named
    assert current.settlement_reversed(supporting=set(), reversed_={"S1"}, on=TODAY) is not None
    # delivered again: an ended certification changes no more
    assert revoked.settlement_reversed(supporting={"S1"}, reversed_={"S1"}, on=TODAY) is None


def test_a_certification_from_an_application_or_resting_on_another_settlement_stays():
    current = certification()
    assert current.settlement_reversed(supporting={"S1", "S2"}, reversed_={"S1"}, on=TODAY) is None
    both = current.settlement_reversed(supporting={"S1", "S2"}, reversed_={"S1", "S2"}, on=TODAY)
    assert both is not None and both[0].status == "revoked"
    _, by_application, _ = submit("E11.9")
    assert by_application is not None and by_application.source == "application"
    assert by_application.settlement_reversed(supporting={"S3"}, reversed_={"S3"}, on=TODAY) is None
    reviewed = replace(current, source="review", application_id="a-1", settlement_id=None)
    assert reviewed.settlement_reversed(supporting={"S1"}, reversed_={"S1"}, on=TODAY) is None


def test_settlement_reversed_is_not_a_reason_agency_staff_may_give():
    with pytest.raises(InvalidField):
        certification().revoke("settlement_reversed", TODAY)  # type: ignore[arg-type]
