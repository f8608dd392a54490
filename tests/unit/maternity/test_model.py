"""The aggregates' state changes: each returns the new state and the event it raises."""

from dataclasses import fields, replace
from datetime import UTC, date, datetime

import pytest

from chs_events.errors import InvalidField
from chs_events.events.maternity import (
    MaternityAllowanceApproved,
    MaternityAllowanceCancelled,
    MaternityAllowancePaid,
    MaternityApplied,
    MaternityRecoveryRaised,
)
from chs_maternity.commands import GrantForSettlement, SubmitApplication
from chs_maternity.domain import AlreadyGranted, Confinement, NotPending, NoWage
from chs_maternity.model import Allowance, Application

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)
PERSON = "p" + "a" * 32


def submitted(**overrides) -> Application:
    values = {
        "person_id": PERSON,
        "enrollment_id": "N1",
        "employer_id": "E1",
        "kind": "miscarriage",
        "event_date": date(2026, 11, 10),
        "reference": "QDFY-1",
        "babies": 1,
        "difficult_birth": False,
        "gestational_weeks": 17,
        "granted": None,
        "at": AT,
    }
    return _submit(**{**values, **overrides})[0]


def _submit(**values) -> tuple[Application, MaternityApplied]:
    """``Application.submit`` of the command of those ``values`` that are its fields."""
    named = {f.name for f in fields(SubmitApplication)}
    command = SubmitApplication(**{k: v for k, v in values.items() if k in named})
    return Application.submit(command, **{k: v for k, v in values.items() if k not in named})


def granted(**overrides) -> Allowance:
    values = {
        "person_id": PERSON,
        "settlement_id": "S1",
        "employer_id": "E1",
        "monthly_wage_fen": 750_000,
        "confinement": Confinement("birth", babies=2, difficult_birth=True),
        "event_date": date(2026, 11, 1),
        "granted": None,
        "at": AT,
    }
    return _grant_for_settlement(**{**values, **overrides})[0]


def _grant_for_settlement(**values) -> tuple[Allowance, MaternityAllowanceApproved]:
    """``Allowance.grant_for_settlement`` of the command of those ``values`` that are its
    fields."""
    named = {f.name for f in fields(GrantForSettlement)}
    command = GrantForSettlement(**{k: v for k, v in values.items() if k in named})
    others = {k: v for k, v in values.items() if k not in named}
    return Allowance.grant_for_settlement(command, **others)


def test_a_submitted_application_is_pending_and_raises_applied():
    application, event = _submit(
        person_id=PERSON,
        enrollment_id="N1",
        employer_id="E1",
        kind="miscarriage",
        event_date=date(2026, 11, 10),
        reference="QDFY-1",
        babies=1,
        difficult_birth=True,
        gestational_weeks=17,
        granted=None,
        at=AT,
    )
    assert (
        application.status,
        application.babies,
        application.difficult_birth,
        application.gestational_weeks,
    ) == ("pending", 0, False, 17)
    assert isinstance(event, MaternityApplied)
    assert (event.application_id, event.kind) == (application.application_id, "miscarriage")


def test_an_application_says_what_its_confinement_needs_and_is_one_per_confinement():
    with pytest.raises(InvalidField, match="gestational_weeks"):
        submitted(gestational_weeks=None)
    with pytest.raises(InvalidField, match="babies"):
        submitted(kind="birth", babies=0)
    with pytest.raises(AlreadyGranted) as refused:
        submitted(granted=granted())
    assert refused.value.extensions["allowance_id"]


def test_approving_grants_the_allowance_at_the_wage():
    application = submitted()
    approved, allowance, event = application.approve(
        reviewer="QD-MAT-03", monthly_wage_fen=600_000, granted=None, at=AT
    )
    # 600 000 // 30 = 20 000 a day; 17 weeks: 42 days
    assert (approved.status, approved.decided_by, approved.decided_at, approved.allowance_id) == (
        "approved",
        "QD-MAT-03",
        AT,
        allowance.allowance_id,
    )
    assert (
        allowance.source,
        allowance.application_id,
        allowance.leave_days,
        allowance.amount_fen,
        allowance.status,
    ) == ("application", application.application_id, 42, 840_000, "approved")
    assert isinstance(event, MaternityAllowanceApproved)
    assert (event.allowance_id, event.amount_fen) == (allowance.allowance_id, 840_000)
    assert application.status == "pending"  # the old state is unchanged


def test_approving_is_refused_once_decided_already_granted_or_without_wage():
    approved, _, _ = submitted().approve(
        reviewer="R", monthly_wage_fen=600_000, granted=None, at=AT
    )
    with pytest.raises(NotPending) as twice:
        approved.approve(reviewer="R", monthly_wage_fen=600_000, granted=None, at=AT)
    assert twice.value.extensions == {"status_now": "approved"}
    with pytest.raises(AlreadyGranted):
        submitted().approve(reviewer="R", monthly_wage_fen=600_000, granted=granted(), at=AT)
    with pytest.raises(NoWage):
        submitted().approve(reviewer="R", monthly_wage_fen=None, granted=None, at=AT)


def test_a_settlement_grants_the_allowance_automatically_once_per_confinement():
    allowance, event = _grant_for_settlement(
        person_id=PERSON,
        settlement_id="S1",
        employer_id="E1",
        monthly_wage_fen=750_000,
        confinement=Confinement("birth", babies=2, difficult_birth=True),
        event_date=date(2026, 11, 1),
        granted=None,
        at=AT,
    )
    # 750 000 // 30 = 25 000; 98 + 15 + 15 = 128 days
    assert (
        allowance.source,
        allowance.settlement_id,
        allowance.leave_days,
        allowance.amount_fen,
    ) == ("auto", "S1", 128, 3_200_000)
    assert (event.source, event.settlement_id, event.babies) == ("auto", "S1", 2)
    with pytest.raises(AlreadyGranted):
        granted(granted=allowance)


def test_paying_an_approved_allowance():
    allowance = granted()
    paid, event = allowance.pay(None, "BANK-1", TODAY)
    assert (paid.status, paid.paid_on, paid.payment_reference) == ("paid", TODAY, "BANK-1")
    assert isinstance(event, MaternityAllowancePaid)
    assert (event.amount_fen, event.paid_on, event.payment_reference) == (
        3_200_000,
        TODAY,
        "BANK-1",
    )
    earlier, _ = allowance.pay(date(2026, 11, 18), "BANK-1", TODAY)
    assert earlier.paid_on == date(2026, 11, 18)


def test_the_same_payment_reported_again_changes_nothing_another_is_refused():
    paid, _ = granted().pay(None, "BANK-1", TODAY)
    assert paid.pay(None, "BANK-1", TODAY) == (paid, None)
    with pytest.raises(NotPending) as refused:
        paid.pay(None, "BANK-2", TODAY)
    assert refused.value.extensions == {"status_now": "paid"}


def test_a_payment_is_not_in_the_future():
    with pytest.raises(InvalidField, match="paid_on"):
        granted().pay(date(2026, 11, 21), "BANK-1", TODAY)
    assert replace(granted(), status="approved").pay(TODAY, "B", TODAY)[0].status == "paid"


# --- a reversed settlement (冲正) ----------------------------------------------------------------


def test_a_reversed_settlement_cancels_the_unpaid_allowance_it_granted():
    allowance = granted()
    cancelled, recovery, event = allowance.settlement_reversed(
        "settlement_data_error", region="370202", at=AT
    )
    assert (cancelled.status, cancelled.settlement_reversed_at, recovery) == ("cancelled", AT, None)
    assert isinstance(event, MaternityAllowanceCancelled)
    assert (
        event.person_id,
        event.allowance_id,
        event.settlement_id,
        event.event_date,
        event.amount_fen,
        event.reason,
        event.reversal_reason_code,
    ) == (
        PERSON,
        allowance.allowance_id,
        "S1",
        date(2026, 11, 1),
        3_200_000,
        "settlement_reversed",
        "settlement_data_error",
    )
    with pytest.raises(NotPending) as refused:  # nothing is paid any more
        cancelled.pay(None, "BANK-1", TODAY)
    assert refused.value.extensions == {"status_now": "cancelled"}


def test_a_reversed_settlement_leaves_the_paid_allowance_paid_and_raises_a_recovery_item():
    paid, _ = granted().pay(date(2026, 11, 15), "BANK-1", TODAY)
    after, recovery, event = paid.settlement_reversed(
        "duplicate_settlement", region="370202", at=AT
    )
    assert (after.status, after.paid_on, after.settlement_reversed_at) == (
        "paid",
        date(2026, 11, 15),
        AT,
    )
    assert recovery is not None
    assert (
        recovery.person_id,
        recovery.allowance_id,
        recovery.settlement_id,
        recovery.amount_fen,
        recovery.payment_reference,
        recovery.region,
        recovery.status,
        recovery.raised_at,
    ) == (PERSON, paid.allowance_id, "S1", 3_200_000, "BANK-1", "370202", "open", AT)
    assert isinstance(event, MaternityRecoveryRaised)
    assert (
        event.recovery_id,
        event.allowance_id,
        event.settlement_id,
        event.amount_fen,
        event.payment_reference,
        event.region,
        event.reversal_reason_code,
    ) == (
        recovery.recovery_id,
        paid.allowance_id,
        "S1",
        3_200_000,
        "BANK-1",
        "370202",
        "duplicate_settlement",
    )


def test_a_reversal_applied_again_changes_nothing():
    cancelled, _, _ = granted().settlement_reversed("patient_request", region="370202", at=AT)
    assert cancelled.settlement_reversed("patient_request", region="370202", at=AT) == (
        cancelled,
        None,
        None,
    )
    paid, _ = granted().pay(None, "BANK-1", TODAY)
    recovered, _, _ = paid.settlement_reversed("patient_request", region="370202", at=AT)
    assert recovered.settlement_reversed("patient_request", region="370202", at=AT) == (
        recovered,
        None,
        None,
    )
