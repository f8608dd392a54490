"""Who may call each route of the maternity service (chs_events.policy), route by route: no
token → 401 with a challenge; a kind of caller the action does not permit → 403; the permitted
kind without the agency scope, or on another's resource (another person's application or
allowance, another employer's wage, an agency of Jinan for a Qingdao employee) → 403 or 404, and
nothing changes; the permitted kind on its own resource → neither 401 nor 403."""

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from chs_events.clock import today
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.policy import Kind, Own, permits_of
from chs_events.service import route_actions
from chs_events.unit_of_work import UnitOfWork
from chs_maternity.api import create_app
from chs_maternity.consumers import (
    on_enrollment_registered,
    on_settlement_completed,
    on_settlement_reversed,
)
from chs_maternity.settings import MaternitySettings
from tests.support.access import Access, Ask, Ownership, access_tests
from tests.support.people import new_person_id
from tests.support.service import client_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

SERVICE = "maternity"
QINGDAO, JINAN = "370200", "370100"

settings, app, client, db = service_fixtures(SERVICE, MaternitySettings, create_app)


@dataclass(frozen=True)
class Targets:
    """A Qingdao employee of an employer, with an approved application and its allowance; and
    a colleague whose allowance from a settlement was paid before the settlement was reversed
    (冲正): a recovery item open with the agency of Qingdao."""

    person_id: str
    employer_id: str
    application_id: str
    allowance_id: str
    recovery_id: str


def application(person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "kind": "miscarriage",
        "event_date": (today() - timedelta(days=3)).isoformat(),
        "gestational_weeks": 17,
        "reference": f"QDFY-{secrets.token_hex(4)}",
    }


# What each route is called with: its path's values and its body.
BODIES: dict[tuple[str, str], Callable[[Targets], dict[str, Any] | None]] = {
    ("POST", "/applications"): lambda t: application(t.person_id),
    ("GET", "/applications/{application_id}"): lambda t: None,
    ("POST", "/applications/{application_id}/approve"): lambda t: {"reviewer": "QD-MAT-01"},
    ("GET", "/allowances/{allowance_id}"): lambda t: None,
    ("POST", "/allowances/{allowance_id}/pay"): lambda t: {"payment_reference": "BANK-A1"},
    ("GET", "/persons/{person_id}/allowances"): lambda t: None,
    ("GET", "/employers/{employer_id}/average-wage"): lambda t: None,
    ("GET", "/recoveries"): lambda t: None,
}
ROUTES = sorted(route_actions(create_app(MaternitySettings())))


def url_of(path: str, targets: Targets) -> str:
    return path.format(
        application_id=targets.application_id,
        allowance_id=targets.allowance_id,
        person_id=targets.person_id,
        employer_id=targets.employer_id,
    )


def ownership(targets: Targets) -> Ownership:
    """The claims of a caller of each kind whose own the targets are, and those that make a
    permitted caller someone else."""
    return Ownership(
        own={
            Kind.EMPLOYER: {"employer_id": targets.employer_id},
            Kind.PERSON: {"person_id": targets.person_id},
            Kind.AGENCY: {"region": QINGDAO},
        },
        others={
            Own.EMPLOYER: {"employer_id": "E9999999999"},
            Own.PERSON: {"person_id": new_person_id()},
            Own.REGION: {"region": JINAN},
        },
    )


def employee(person_id: str, employer_id: str) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=f"N{uuid.uuid4().hex[:12]}",
        insutype="310",
        pooling_region=QINGDAO,
        start_date=date(2025, 1, 1),
        employer_id=employer_id,
        employer_name="青岛港湾物流有限公司",
        contribution_base_fen=600_000,
    )


def delivery(person_id: str, settlement_id: str) -> SettlementCompleted:
    discharged = today() - timedelta(days=1)
    return SettlementCompleted(
        person_id=person_id,
        settlement_id=settlement_id,
        insutype="310",
        institution_code="H37020000001",
        institution_name="青岛市妇女儿童医院",
        institution_level=3,
        institution_region=QINGDAO,
        visit_type="inpatient",
        admission_date=discharged - timedelta(days=3),
        discharge_date=discharged,
        discharge_diagnoses=["O80.0", "Z37.0"],
        total_fen=900_000,
        eligible_fen=900_000,
        ineligible_fen=0,
        pooled_fund_fen=800_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        personal_cash_fen=100_000,
        invoice_no=f"I{settlement_id}",
        maternity=True,
        settled_at=datetime.now(UTC),
    )


def reversal(person_id: str, settlement_id: str) -> SettlementReversed:
    return SettlementReversed(
        person_id=person_id,
        settlement_id=settlement_id,
        invoice_no=f"I{settlement_id}",
        institution_name="青岛市妇女儿童医院",
        total_fen=900_000,
        pooled_fund_fen=800_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        reason_code="duplicate_settlement",
        reversed_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
async def targets(app, settings) -> Targets:
    person, mother, employer = new_person_id(), new_person_id(), f"E{secrets.token_hex(5)}"
    settlement_id = f"S-{secrets.token_hex(5)}"
    events = [
        (employee(person, employer), on_enrollment_registered),
        (employee(mother, employer), on_enrollment_registered),
        (delivery(mother, settlement_id), on_settlement_completed),
    ]
    async with app.state.pool.acquire() as conn:
        for event, handler in events:  # as the consumers would
            envelope = Envelope(event, source="/chs/test")
            async with UnitOfWork.caused_by(conn, envelope, source=settings.ce_source) as uow:
                await handler(uow, envelope)
        granted = await conn.fetchval(
            "select allowance_id from allowances where settlement_id = $1", settlement_id
        )
    agency = bearer(SERVICE, kind="agency", region=QINGDAO)
    async with client_of(app, SERVICE) as http:
        paid = await http.post(
            f"/allowances/{granted}/pay", json={"payment_reference": "BANK-R"}, headers=agency
        )
        assert paid.status_code == 200, paid.text
    async with app.state.pool.acquire() as conn:
        envelope = Envelope(reversal(mother, settlement_id), source="/chs/reimbursement")
        async with UnitOfWork.caused_by(conn, envelope, source=settings.ce_source) as uow:
            await on_settlement_reversed(uow, envelope)
        recovery_id = await conn.fetchval(
            "select recovery_id from recoveries where allowance_id = $1", granted
        )
    assert recovery_id is not None
    async with client_of(app, SERVICE) as http:
        submitted = await http.post(
            "/applications",
            json=application(person),
            headers=bearer(SERVICE, kind="person", person_id=person),
        )
        assert submitted.status_code == 201, submitted.text
        application_id = submitted.json()["application_id"]
        approved = await http.post(
            f"/applications/{application_id}/approve",
            json={"reviewer": "QD-MAT-01"},
            headers=bearer(SERVICE, kind="agency", region=QINGDAO),
        )
        assert approved.status_code == 200, approved.text
    allowance_id = approved.json()["allowance"]["allowance_id"]
    return Targets(person, employer, application_id, allowance_id, recovery_id)


def recoveries(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["recovery_id"] for item in answer.json()["recoveries"]]


@pytest.fixture(scope="module")
def access(targets: Targets) -> dict[tuple[str, str], Access]:
    """Per route: its request about the targets by the kinds the policy permits, on their own
    and on another's."""
    callers = ownership(targets)

    def shown(answer: httpx.Response) -> None:
        assert targets.recovery_id in recoveries(answer)

    def not_shown(answer: httpx.Response) -> None:
        assert targets.recovery_id not in recoveries(answer)

    listed = {("GET", "/recoveries"): {"own_seen": shown, "others_seen": not_shown}}
    return {
        route: callers.row(
            permits_of(action),
            Ask({}, url_of(route[1], targets), json=BODIES[route](targets)),
            **listed.get(route, {}),
        )
        for route, action in route_actions(create_app(MaternitySettings())).items()
    }


test_every_route_declares_an_action, test_access = access_tests(SERVICE, ROUTES, outbox=True)
