"""Who may reach what in the remote-care API, route by route (``chs_events.policy``): no token is
a 401; a kind of caller the action does not permit is a 403; a permitted kind asking about
another's resource (another person, an agency of another region) is a 403 or 404; the permitted
kind on its own resource gets through (neither 401 nor 403)."""

import uuid
from datetime import date
from typing import Any, NamedTuple

import httpx
import pytest

from chs_events.policy import AGENCY, INSTITUTION, PERSON, Own, permits_of
from chs_events.read_models import enrollments
from chs_events.read_models.enrollments import Enrollment
from chs_events.service import route_actions
from chs_remote_care.api import create_app
from chs_remote_care.settings import RemoteCareSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures
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


def request_of(method: str, path: str, subject: Subject) -> Ask:
    """The request of the route about the subject (its caller given later)."""
    url = path.format(person_id=subject.person_id, filing_id=subject.filing_id)
    by_route: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/persons/{person_id}/filings"): {"json": LONG_TERM},
        ("POST", "/filings/{filing_id}/revoke"): {"json": {"reason": "回原籍"}},
        ("GET", "/persons/{person_id}/coverage"): {"params": {"region": "460200"}},
    }
    return Ask({}, url, **by_route.get((method, path), {}))


def row(route: tuple[str, str], action: str, subject: Subject) -> Access:
    """Callers of a permitted kind asking about another's resource, and about the subject's."""
    request = request_of(*route, subject)
    others: list[dict] = []
    own: list[dict] = []
    for permit in permits_of(action):
        scope = {"scope": permit.scope} if permit.scope else {}
        if permit.own is Own.PERSON:
            others.append({"kind": "person", "person_id": "p" + uuid.uuid4().hex})
            own.append({"kind": "person", "person_id": subject.person_id})
        elif permit.own is Own.REGION:
            others.append({"kind": "agency", "region": JINAN, **scope})
            own.append({"kind": "agency", "region": QINGDAO, **scope})
        else:
            own.append({"kind": permit.kind.value})
    return Access([request.by(caller) for caller in own], [request.by(caller) for caller in others])


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


def test_the_policy_permits_what_the_service_promises() -> None:
    assert {p.kind for p in permits_of("remote-care:coverage")} == {PERSON, AGENCY, INSTITUTION}
    assert {p.kind for p in permits_of("remote-care:file")} == {PERSON, AGENCY}


@pytest.fixture
def access(subject: Subject) -> dict[tuple[str, str], Access]:
    return {route: row(route, action, subject) for route, action in ACTIONS.items()}


ACTIONS = route_actions(create_app(RemoteCareSettings()))
test_every_route_declares_an_action, test_access = access_tests(
    SERVICE, sorted(ACTIONS), without_scope="other:scope"
)
