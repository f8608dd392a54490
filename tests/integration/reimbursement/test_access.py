"""Who may call each route of the reimbursement service (chs_events.policy), route by route:
no token → 401 with a challenge; a kind of caller the action does not permit → 403; the
permitted kind without the agency scope, or on another's resource (another hospital's
settlement or bill, another person's data, an agency of Jinan for a Qingdao person) → 403 or
404, and nothing changes; the permitted kind on its own resource → neither 401 nor 403."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chs_events.policy import Kind, Own, permits_of
from chs_events.service import route_actions
from chs_reimbursement.api import create_app
from chs_reimbursement.settings import ReimbursementSettings
from tests.support.access import Access, Ask, Ownership, access_tests
from tests.support.people import enrolled_resident, new_person_id
from tests.support.service import client_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration
REVERSAL = {"reason_code": "settlement_data_error"}

SERVICE = "reimbursement"
HOSPITAL, OTHER_HOSPITAL = "H37020200017", "H37020200099"
QINGDAO, JINAN = "370200", "370100"

settings, app, client, db = service_fixtures(SERVICE, ReimbursementSettings, create_app)


@dataclass(frozen=True)
class Targets:
    """A Qingdao resident with a settlement at HOSPITAL and a claim of her own."""

    person_id: str
    settlement_id: str
    claim_id: str


def bill(person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "institution_code": HOSPITAL,
        "visit_type": "inpatient",
        "admission_date": "2026-11-10",
        "discharge_date": "2026-11-18",
        "diagnoses": ["C34.9"],
        "eligible_fen": 800_000,
        "ineligible_fen": 0,
        "invoice_no": f"37020027{secrets.token_hex(5)}",
    }


# What each route is called with: its path's values and its body.
BODIES: dict[tuple[str, str], Callable[[Targets], dict[str, Any] | None]] = {
    ("POST", "/settlements"): lambda t: bill(t.person_id),
    ("GET", "/settlements/{settlement_id}"): lambda t: None,
    ("POST", "/settlements/{settlement_id}/reverse"): lambda t: {
        "reason_code": "settlement_data_error"
    },
    ("POST", "/claims"): lambda t: bill(t.person_id),
    ("GET", "/claims/{claim_id}"): lambda t: None,
    ("POST", "/claims/{claim_id}/pay"): lambda t: {"payment_reference": "BANK-A1"},
    ("GET", "/persons/{person_id}/reimbursements"): lambda t: None,
    ("GET", "/persons/{person_id}/accumulators"): lambda t: None,
    ("PUT", "/persons/{person_id}/assisted-groups"): lambda t: {"groups": ["dibao"]},
    ("GET", "/policies/{region}/{year}"): lambda t: None,
}
ROUTES = sorted(route_actions(create_app(ReimbursementSettings())))


def url_of(path: str, targets: Targets) -> str:
    return path.format(
        settlement_id=targets.settlement_id,
        claim_id=targets.claim_id,
        person_id=targets.person_id,
        region=QINGDAO,
        year=2026,
    )


def ownership(targets: Targets) -> Ownership:
    """The claims of a caller of each kind whose own the targets are, and those that make a
    permitted caller someone else."""
    return Ownership(
        own={
            Kind.INSTITUTION: {"institution_code": HOSPITAL},
            Kind.PERSON: {"person_id": targets.person_id},
            Kind.AGENCY: {"region": QINGDAO},
        },
        others={
            Own.INSTITUTION: {"institution_code": OTHER_HOSPITAL},
            Own.PERSON: {"person_id": new_person_id()},
            Own.REGION: {"region": JINAN},
        },
    )


@pytest.fixture(scope="module")
async def targets(app) -> Targets:
    person = new_person_id()
    await enrolled_resident(app, person, QINGDAO)

    async with client_of(app, SERVICE) as http:
        settled = await http.post(
            "/settlements", json=bill(person), headers=bearer(SERVICE, kind="institution")
        )
        assert settled.status_code == 201, settled.text
        claimed = await http.post(
            "/claims", json=bill(person), headers=bearer(SERVICE, kind="person", person_id=person)
        )
        assert claimed.status_code == 201, claimed.text
    return Targets(person, settled.json()["settlement_id"], claimed.json()["claim_id"])


@pytest.fixture(scope="module")
def access(targets: Targets) -> dict[tuple[str, str], Access]:
    """Per route: its request about the targets by the kinds the policy permits, on their own
    and on another's."""
    callers = ownership(targets)
    return {
        route: callers.row(
            permits_of(action), Ask({}, url_of(route[1], targets), json=BODIES[route](targets))
        )
        for route, action in route_actions(create_app(ReimbursementSettings())).items()
    }


test_every_route_declares_an_action, test_access = access_tests(SERVICE, ROUTES, outbox=True)
