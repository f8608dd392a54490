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
from chs_events.policy import AGENCY, Kind, Own, permits_of
from chs_events.service import route_actions
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import service_fixtures, without_token
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


def request_of(method: str, path: str, subject: Subject) -> tuple[str, dict[str, Any]]:
    """The URL and options of a request to the route about the subject."""
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
    return url, by_route.get((method, path), {})


def callers(action: str, subject: Subject) -> tuple[list[dict], list[dict], list[dict]]:
    """Tokens (``bearer`` options) of the callers refused by kind (or scope), those of a
    permitted kind on another's resource, and those of a permitted kind on the subject's own."""
    permits = permits_of(action)
    permitted = {p.kind for p in permits}
    refused = [{"kind": k.value} for k in Kind if k not in permitted]
    others: list[dict] = []
    own: list[dict] = []
    for permit in permits:
        scope = {"scope": permit.scope} if permit.scope else {}
        if permit.kind is AGENCY and permit.scope:
            refused.append({"kind": "agency", "region": WEIFANG, "scope": "other:scope"})
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
    return refused, others, own


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


def test_every_route_declares_an_action_of_the_policy(app) -> None:
    assert_every_route_declares_an_action(app)


async def _ask(
    client: httpx.AsyncClient, method: str, url: str, options: dict, token: dict | None
) -> httpx.Response:
    if token is None:
        return await without_token(client, method, url, **options)
    return await client.request(method, url, headers=bearer(SERVICE, **token), **options)


ROUTES = sorted(route_actions(create_app(ChronicSettings())).items())


@pytest.mark.parametrize(("route", "action"), ROUTES, ids=[f"{m} {p}" for (m, p), _ in ROUTES])
async def test_access(client: httpx.AsyncClient, subject: Subject, route, action) -> None:
    method, path = route
    url, options = request_of(method, path, subject)
    refused, others, own = callers(action, subject)

    async def ask(token: dict | None) -> httpx.Response:
        return await _ask(client, method, url, options, token)

    anonymous = await ask(None)
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    bodies = []
    for token in refused:
        answer = await ask(token)
        assert answer.status_code == 403, (token, answer.text)
        bodies.append(answer.json())
    for token in others:
        answer = await ask(token)
        if path == "/review-queue":  # the queue of the agency's own region: not the subject's
            assert subject.application_id not in queued(answer)
            continue
        assert answer.status_code in (403, 404), (token, answer.text)
        if answer.status_code == 403:
            bodies.append(answer.json())
    assert all(body == bodies[0] for body in bodies)  # a refusal says nothing of the target
    for token in own:
        answer = await ask(token)
        assert answer.status_code not in (401, 403), (token, answer.text)
        if path == "/review-queue":
            assert subject.application_id in queued(answer)


def queued(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [a["application_id"] for a in answer.json()["applications"]]
