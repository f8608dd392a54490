"""Who may call each route of the accounts API (``chs_events.policy``), as a table: for every
route, no token → 401; a kind of caller its action does not permit → 403; a permitted kind on
another's resource (another merchant's code, another person's account, an agency of another
region) → 403; a permitted kind on its own → neither. A refused caller changes nothing."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from chs_accounts import handlers
from chs_accounts.api import create_app
from chs_accounts.commands import OpenAccount
from chs_accounts.settings import AccountsSettings
from chs_events.policy import Kind, permits_of
from chs_events.service import route_actions
from chs_events.unit_of_work import UnitOfWork
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import service_fixtures, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("accounts", AccountsSettings, create_app)

QINGDAO, JINAN = "370200", "370100"
HOLDER, OTHER, MEMBER = ("p" + uuid.uuid4().hex for _ in range(3))
WINDOW = "P370200001"


def debit(merchant_code: str = WINDOW) -> dict[str, Any]:
    return {
        "merchant_code": merchant_code,
        "merchant_kind": "pharmacy",
        "amount_fen": 100,
        "spender_person_id": HOLDER,
    }


@dataclass(frozen=True)
class Case:
    """A request of the route about the holder's account, the callers whose resource it is
    (token options: ``kind`` and claims) and callers of a permitted kind whose it is not."""

    url: str
    own: tuple[dict[str, Any], ...]
    others: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None = None


HOLDER_HIMSELF = {"kind": "person", "person_id": HOLDER}
ANOTHER_PERSON = {"kind": "person", "person_id": OTHER}
CASES: dict[tuple[str, str], Case] = {
    ("GET", "/accounts/{person_id}"): Case(
        f"/accounts/{HOLDER}",
        own=(HOLDER_HIMSELF, {"kind": "agency", "region": QINGDAO}, {"kind": "agency"}),
        others=(ANOTHER_PERSON, {"kind": "agency", "region": JINAN}),
    ),
    ("POST", "/accounts/{person_id}/debits"): Case(
        f"/accounts/{HOLDER}/debits",
        body=debit(),
        own=({"kind": "merchant", "merchant_code": WINDOW},),
        # the body names WINDOW; the default merchant (M370202000001) and WINDOW naming another
        others=({"kind": "merchant"}, {"kind": "merchant", "merchant_code": "P370100002"}),
    ),
    ("POST", "/accounts/{person_id}/family"): Case(
        f"/accounts/{HOLDER}/family",
        body={"member_person_id": MEMBER, "relation": "child"},
        own=(HOLDER_HIMSELF,),
        others=(ANOTHER_PERSON, {"kind": "person", "person_id": MEMBER}),
    ),
    ("DELETE", "/accounts/{person_id}/family/{member_person_id}"): Case(
        f"/accounts/{HOLDER}/family/{MEMBER}",
        own=(HOLDER_HIMSELF,),
        others=(ANOTHER_PERSON, {"kind": "person", "person_id": MEMBER}),
    ),
}

ACTIONS = route_actions(create_app(AccountsSettings()))


def refused_callers(action: str) -> list[dict[str, Any]]:
    """A caller of every kind the action does not permit (with the kind's default claims), and
    an agency without the scope a permit asks for."""
    permits = permits_of(action)
    callers: list[dict[str, Any]] = [
        {"kind": kind.value} for kind in Kind if kind not in {p.kind for p in permits}
    ]
    callers += [{"kind": "agency", "scope": ""} for p in permits if p.scope]
    return callers


def label(options: dict[str, Any]) -> str:
    return "-".join(str(value) or "no-scope" for value in options.values())


REFUSED = [
    pytest.param(route, options, id=f"{route[0]} {route[1]} {label(options)}")
    for route, action in ACTIONS.items()
    for options in refused_callers(action)
]
OTHERS = [
    pytest.param(route, options, id=f"{route[0]} {route[1]} {label(options)}")
    for route, case in CASES.items()
    for options in case.others
]
OWN = [
    pytest.param(route, options, id=f"{route[0]} {route[1]} {label(options)}")
    for route, case in CASES.items()
    for options in case.own
]


@pytest.fixture(scope="module", autouse=True)
async def accounts(app) -> None:
    """The holder's account pools in Qingdao, the other person's in Jinan."""
    async with app.state.pool.acquire() as conn:
        for person_id, region in ((HOLDER, QINGDAO), (OTHER, JINAN)):
            uow = UnitOfWork(conn, source=app.state.settings.ce_source)
            await handlers.handle_open(
                uow, OpenAccount(person_id, f"en-{person_id[-8:]}", region, date(2026, 1, 1))
            )


async def send(
    client: httpx.AsyncClient, route: tuple[str, str], options: dict[str, Any]
) -> httpx.Response:
    case = CASES[route]
    headers = {**bearer("accounts", **options), "Idempotency-Key": f"K-{uuid.uuid4().hex}"}
    return await client.request(route[0], case.url, json=case.body, headers=headers)


async def outbox_size(db) -> int:
    return await db.fetchval("select count(*) from outbox")


def test_every_route_declares_an_action_and_has_a_case(app) -> None:
    assert assert_every_route_declares_an_action(app) == ACTIONS
    assert set(CASES) == set(ACTIONS)


@pytest.mark.parametrize("route", list(CASES), ids=" ".join)
async def test_no_token_is_401(client, route) -> None:
    case = CASES[route]
    response = await without_token(client, route[0], case.url, json=case.body)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("route", "options"), REFUSED)
async def test_a_kind_the_action_does_not_permit_is_403(client, db, route, options) -> None:
    before = await outbox_size(db)
    response = await send(client, route, options)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "this caller may not do this"
    assert await outbox_size(db) == before


@pytest.mark.parametrize(("route", "options"), OTHERS)
async def test_a_permitted_kind_on_anothers_resource_is_403(client, db, route, options) -> None:
    before = await outbox_size(db)
    response = await send(client, route, options)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "this caller may not do this"
    assert await outbox_size(db) == before


@pytest.mark.parametrize(("route", "options"), OWN)
async def test_a_permitted_kind_on_its_own_is_let_through(client, route, options) -> None:
    response = await send(client, route, options)
    assert response.status_code not in (401, 403), response.text
