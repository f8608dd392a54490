"""Who may reach what in the remote-care API, route by route (``chs_events.policy``): no token is
a 401; a kind of caller the action does not permit is a 403; a permitted kind asking about
another's resource (another person, an agency of another region) is a 403 or 404; the permitted
kind on its own resource gets through (neither 401 nor 403)."""

import uuid
from datetime import date
from typing import Any, NamedTuple

import httpx
import pytest

from chs_events.policy import AGENCY, INSTITUTION, PERSON, Kind, Own, permits_of
from chs_events.read_models import enrollments
from chs_events.read_models.enrollments import Enrollment
from chs_events.service import route_actions
from chs_remote_care.api import create_app
from chs_remote_care.settings import RemoteCareSettings
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import service_fixtures, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

SERVICE = "remote-care"
QINGDAO_DISTRICT, QINGDAO, JINAN = "370202", "370200", "370100"
LONG_TERM = {
    "filing_type": "long_term",
    "category": "relocated_retiree",
    "destination_region": "460200",
    "commitment": True,
}

settings, app, client, db = service_fixtures("remote_care", RemoteCareSettings, create_app)


class Subject(NamedTuple):
    """A Qingdao person with an active long-term filing."""

    person_id: str
    filing_id: str


def request_of(method: str, path: str, subject: Subject) -> tuple[str, dict[str, Any]]:
    """The URL and options of a request to the route about the subject."""
    url = path.format(person_id=subject.person_id, filing_id=subject.filing_id)
    by_route: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/persons/{person_id}/filings"): {"json": LONG_TERM},
        ("POST", "/filings/{filing_id}/revoke"): {"json": {"reason": "回原籍"}},
        ("GET", "/persons/{person_id}/coverage"): {"params": {"region": "460200"}},
    }
    return url, by_route.get((method, path), {})


def callers(action: str, subject: Subject) -> tuple[list[dict], list[dict], list[dict]]:
    """Tokens (``bearer`` options) of the callers refused by kind, those of a permitted kind
    asking about another's resource, and those of a permitted kind on the subject's own."""
    permits = permits_of(action)
    permitted = {p.kind for p in permits}
    refused = [{"kind": k.value} for k in Kind if k not in permitted]
    others: list[dict] = []
    own: list[dict] = []
    for permit in permits:
        scope = {"scope": permit.scope} if permit.scope else {}
        if permit.kind is AGENCY and permit.scope:
            refused.append({"kind": "agency", "region": QINGDAO, "scope": "other:scope"})
        if permit.own is Own.PERSON:
            others.append({"kind": "person", "person_id": "p" + uuid.uuid4().hex})
            own.append({"kind": "person", "person_id": subject.person_id})
        elif permit.own is Own.REGION:
            others.append({"kind": "agency", "region": JINAN, **scope})
            own.append({"kind": "agency", "region": QINGDAO, **scope})
        else:
            own.append({"kind": permit.kind.value})
    return refused, others, own


@pytest.fixture
async def subject(client: httpx.AsyncClient, db) -> Subject:
    person_id = "p" + uuid.uuid4().hex
    await enrollments.insert_enrollment(
        db, Enrollment(str(uuid.uuid4()), person_id, "390", QINGDAO_DISTRICT, date(2020, 1, 1))
    )
    filed = await client.post(
        f"/persons/{person_id}/filings",
        json=LONG_TERM,
        headers=bearer(SERVICE, kind="person", person_id=person_id),
    )
    assert filed.status_code == 201, filed.text
    return Subject(person_id, filed.json()["filing_id"])


def test_every_route_declares_an_action_of_the_policy(app) -> None:
    assert_every_route_declares_an_action(app)


def test_the_policy_permits_what_the_service_promises() -> None:
    assert {p.kind for p in permits_of("remote-care:coverage")} == {PERSON, AGENCY, INSTITUTION}
    assert {p.kind for p in permits_of("remote-care:file")} == {PERSON, AGENCY}


async def _ask(
    client: httpx.AsyncClient, method: str, url: str, options: dict, token: dict | None
) -> httpx.Response:
    if token is None:
        return await without_token(client, method, url, **options)
    return await client.request(method, url, headers=bearer(SERVICE, **token), **options)


ROUTES = sorted(route_actions(create_app(RemoteCareSettings())).items())


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
        assert answer.status_code in (403, 404), (token, answer.text)
        if answer.status_code == 403:
            bodies.append(answer.json())
    assert all(body == bodies[0] for body in bodies)  # a refusal says nothing of the target
    for token in own:
        answer = await ask(token)
        assert answer.status_code not in (401, 403), (token, answer.text)
