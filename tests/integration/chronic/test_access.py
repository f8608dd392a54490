"""Who may reach what in the chronic-disease API, route by route (``chs_events.policy``): no token
is a 401; a kind of caller the action does not permit (or an agency without chronic:review where
it is needed) is a 403; a permitted kind on another's resource (another hospital's application,
another person, an agency of another region than the one stored with the application or
certification) is a 403 or 404, and the review queue of another region does not show it; the
permitted kind on its own resource gets through (neither 401 nor 403)."""

import secrets
from typing import Any, NamedTuple

import httpx
import pytest

from chs_chronic.api import create_app
from chs_chronic.settings import ChronicSettings
from chs_events.clock import today
from chs_events.policy import Own, permits_of
from chs_events.service import route_actions
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

SERVICE = "chronic"
HOSPITAL = {"institution_code": "H37078300001", "region": "370783"}  # 寿光, Weifang
ANOTHER_HOSPITAL = {"institution_code": "H37010200001", "region": "370102"}  # Jinan
WEIFANG, JINAN = "370700", "370100"

settings, app, client, db = service_fixtures("chronic", ChronicSettings, create_app)


class Subject(NamedTuple):
    """A person with, from the Weifang hospital, an application waiting for review and a
    certified condition."""

    person_id: str
    application_id: str
    certification_id: str


def application(person_id: str, *diagnoses: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "institution_code": HOSPITAL["institution_code"],
        "doctor_id": "D3707830012",
        "doctor_name": "王医生",
        "discharge_date": today().isoformat(),
        "diagnosis_codes": list(diagnoses),
        "evidence": [{"kind": "lab_report", "reference": "LIS-1"}],
    }


def request_of(method: str, path: str, subject: Subject) -> Ask:
    """The request of the route about the subject (its caller given later)."""
    url = path.format(
        person_id=subject.person_id,
        application_id=subject.application_id,
        certification_id=subject.certification_id,
    )
    by_route: dict[tuple[str, str], dict[str, Any]] = {
        ("GET", "/catalog/match"): {"params": {"diagnosis": "E11.9"}},
        ("POST", "/applications"): {"json": application(subject.person_id, "I10")},
        ("POST", "/applications/{application_id}/decision"): {
            "json": {
                "decision": "reject",
                "reviewer": "R1",
                "reason_code": "diagnosis_not_supported",
            }
        },
        ("POST", "/certifications/{certification_id}/revoke"): {
            "json": {"reason_code": "at_own_request"}
        },
    }
    return Ask({}, url, **by_route.get((method, path), {}))


def row(route: tuple[str, str], action: str, subject: Subject) -> Access:
    """Callers of a permitted kind on another's resource, and on the subject's own (the review
    queue of another region does not show the subject's application; its own does)."""
    request = request_of(*route, subject)
    others: list[dict] = []
    own: list[dict] = []
    for permit in permits_of(action):
        scope = {"scope": permit.scope} if permit.scope else {}
        if permit.own is Own.PERSON:
            others.append({"kind": "person", "person_id": "p" + secrets.token_hex(16)})
            own.append({"kind": "person", "person_id": subject.person_id})
        elif permit.own is Own.REGION:
            others.append({"kind": "agency", "region": JINAN, **scope})
            own.append({"kind": "agency", "region": WEIFANG, **scope})
        elif permit.own is Own.INSTITUTION:
            others.append({"kind": "institution", **ANOTHER_HOSPITAL})
            own.append({"kind": "institution", **HOSPITAL})
        else:
            own.append({"kind": permit.kind.value})
    queue = route == ("GET", "/review-queue")

    def shown(answer: httpx.Response) -> None:
        assert subject.application_id in queued(answer)

    def not_shown(answer: httpx.Response) -> None:
        assert subject.application_id not in queued(answer)

    return Access(
        [request.by(caller) for caller in own],
        [request.by(caller) for caller in others],
        own_seen=shown if queue else None,
        others_seen=not_shown if queue else None,
    )


@pytest.fixture
async def subject(client: httpx.AsyncClient) -> Subject:
    person_id = "p" + secrets.token_hex(16)
    hospital = bearer(SERVICE, kind="institution", **HOSPITAL)
    queued = await client.post(
        "/applications", json=application(person_id, "M05.3"), headers=hospital
    )
    certified = await client.post(
        "/applications", json=application(person_id, "E11.9"), headers=hospital
    )
    assert queued.status_code == certified.status_code == 201, (queued.text, certified.text)
    assert queued.json()["status"] == "pending_review"
    certification = certified.json()["certification"]
    return Subject(person_id, queued.json()["application_id"], certification["certification_id"])


@pytest.fixture
def access(subject: Subject) -> dict[tuple[str, str], Access]:
    return {route: row(route, action, subject) for route, action in ACTIONS.items()}


def queued(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [a["application_id"] for a in answer.json()["applications"]]


ACTIONS = route_actions(create_app(ChronicSettings()))
test_every_route_declares_an_action, test_access = access_tests(
    SERVICE, sorted(ACTIONS), without_scope="other:scope"
)
