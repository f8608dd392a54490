"""Who reaches what in the notification API, route by route (chs_events.policy): no token is
401, a kind of caller the route's action does not permit is 403, a person on another's
messages is 403, and each permitted kind reaches its own."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chs_events.db import connect
from chs_events.policy import Kind, permits_of
from chs_events.service import route_actions
from chs_notification import repository
from chs_notification.api import create_app
from chs_notification.commands import RequestNotice
from chs_notification.settings import NotificationSettings
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import service_fixtures, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

OWNER = "p" + uuid.uuid4().hex
STRANGER = "p" + uuid.uuid4().hex

settings, app, client, db = service_fixtures("notification", NotificationSettings, create_app)


@dataclass(frozen=True)
class Call:
    kind: str
    url: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    own: list[Call]
    foreign: list[Call] = field(default_factory=list)


ROUTES = [
    ("GET", "/persons/{person_id}/messages"),
    ("GET", "/messages/{message_id}"),
    ("GET", "/stats/delivery"),
    ("GET", "/templates"),
]


@pytest.fixture(scope="module")
async def message_id(app, settings) -> AsyncIterator[uuid.UUID]:
    """A queued message of OWNER."""
    conn = await connect(settings.database_dsn)
    message = uuid.uuid4()
    notice = RequestNotice(
        notice_id=f"access-{message}",
        person_id=OWNER,
        template_id="enrollment.registered",
        category="business_result",
        priority="normal",
        params={"name": "张三"},
    )
    await repository.insert_message(
        conn,
        notice,
        message_id=message,
        request_event_id=str(uuid.uuid4()),
        correlation_id=None,
    )
    await conn.close()
    yield message


@pytest.fixture
def routes(message_id) -> dict[tuple[str, str], Route]:
    owner = {"person_id": OWNER}
    stranger = {"person_id": STRANGER}
    return {
        ("GET", "/persons/{person_id}/messages"): Route(
            own=[
                Call("person", f"/persons/{OWNER}/messages", owner),
                Call("admin", f"/persons/{OWNER}/messages"),
            ],
            foreign=[Call("person", f"/persons/{OWNER}/messages", stranger)],
        ),
        ("GET", "/messages/{message_id}"): Route(
            own=[
                Call("person", f"/messages/{message_id}", owner),
                Call("admin", f"/messages/{message_id}"),
            ],
            foreign=[
                Call("person", f"/messages/{message_id}", stranger),
                Call("person", f"/messages/{uuid.uuid4()}", owner),  # none: the same 403
            ],
        ),
        ("GET", "/stats/delivery"): Route(
            own=[Call("agency", "/stats/delivery"), Call("admin", "/stats/delivery")]
        ),
        ("GET", "/templates"): Route(own=[Call(kind.value, "/templates") for kind in Kind]),
    }


def test_every_route_declares_an_action_and_is_in_the_table(app) -> None:
    assert set(assert_every_route_declares_an_action(app)) == set(ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_without_a_token_is_401(client, routes, route) -> None:
    response = await without_token(client, route[0], routes[route].own[0].url)

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_kinds_the_action_does_not_permit_are_403(app, client, routes, route) -> None:
    permitted = {permit.kind.value for permit in permits_of(route_actions(app)[route])}
    url = routes[route].own[0].url
    for kind in {k.value for k in Kind} - permitted:
        response = await client.get(url, headers=bearer("notification", kind=kind))
        assert response.status_code == 403, (kind, response.text)


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_another_persons_messages_are_refused(client, routes, route) -> None:
    bodies = set()
    for call in routes[route].foreign:
        response = await client.get(
            call.url, headers=bearer("notification", kind=call.kind, **call.claims)
        )
        assert response.status_code == 403, (call, response.text)
        bodies.add(response.text.replace(call.url, ""))
    assert len(bodies) <= 1, bodies  # nothing learnt about whether the message exists


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_each_permitted_kind_reaches_its_own(app, client, routes, route) -> None:
    permitted = {permit.kind.value for permit in permits_of(route_actions(app)[route])}
    assert permitted <= {call.kind for call in routes[route].own}
    for call in routes[route].own:
        response = await client.get(
            call.url, headers=bearer("notification", kind=call.kind, **call.claims)
        )
        assert response.status_code == 200, (call, response.text)
