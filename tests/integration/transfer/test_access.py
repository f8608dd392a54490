"""Who may call each route of the transfer API (``chs_events.policy``), as a table: for every
route, no token → 401; a kind of caller its action does not permit (or an agency without
``transfer:confirm`` for a step) → 403; a permitted kind on another's resource (another person,
an agency of neither region, the in-region's agency confirming out, the out-region's completing)
→ 403; a permitted kind on its own → neither. A refused caller changes nothing."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from chs_events.policy import Kind, permits_of
from chs_events.read_models import enrollments
from chs_events.service import route_actions
from chs_transfer.api import create_app
from chs_transfer.settings import TransferSettings
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import client_of, service_fixtures, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("transfer", TransferSettings, create_app)

QINGDAO, JINAN, SUZHOU, JIANGSU, BEIJING = "370200", "370100", "320500", "320000", "110000"
PERSON, OTHER = ("p" + uuid.uuid4().hex for _ in range(2))
TRANSFER: dict[str, str] = {}  # the id of the person's transfer, once requested


@dataclass(frozen=True)
class Case:
    """A request of the route about the person's transfer (``{transfer_id}`` in the url), the
    callers whose resource it is (token options: ``kind`` and claims) and callers of a
    permitted kind whose it is not."""

    url: str
    own: tuple[dict[str, Any], ...]
    others: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None = None


def agency(region: str) -> dict[str, Any]:
    """Agency staff of ``region`` with every business scope."""
    return {"kind": "agency", "region": region}


THE_PERSON = {"kind": "person", "person_id": PERSON}
ANOTHER_PERSON = {"kind": "person", "person_id": OTHER}
REJECTION = {"by": "in_region", "reason_code": "no_employer_in_region"}
CASES: dict[tuple[str, str], Case] = {
    ("POST", "/transfers"): Case(
        "/transfers",
        body={"person_id": PERSON, "to_region": JINAN},
        own=(THE_PERSON, agency(QINGDAO), agency("370000")),
        others=(ANOTHER_PERSON, agency(JINAN), agency(SUZHOU)),
    ),
    ("GET", "/transfers/{transfer_id}"): Case(
        "/transfers/{transfer_id}",
        own=(THE_PERSON, agency(QINGDAO), agency(SUZHOU), agency(JIANGSU)),
        others=(ANOTHER_PERSON, agency(JINAN)),
    ),
    ("GET", "/persons/{person_id}/transfers"): Case(
        f"/persons/{PERSON}/transfers",
        own=(THE_PERSON, agency(QINGDAO), agency(SUZHOU)),
        others=(ANOTHER_PERSON, agency(JINAN)),
    ),
    ("POST", "/transfers/{transfer_id}/out-confirmation"): Case(
        "/transfers/{transfer_id}/out-confirmation",
        body={},
        own=(agency(QINGDAO),),
        others=(agency(SUZHOU), agency(JIANGSU), agency(JINAN)),
    ),
    ("POST", "/transfers/{transfer_id}/completion"): Case(
        "/transfers/{transfer_id}/completion",
        body={},
        own=(agency(SUZHOU), agency(JIANGSU)),
        others=(agency(QINGDAO), agency("370000"), agency(JINAN)),
    ),
    ("POST", "/transfers/{transfer_id}/rejection"): Case(
        "/transfers/{transfer_id}/rejection",
        body=REJECTION,
        own=(agency(SUZHOU), agency(QINGDAO)),
        others=(agency(JINAN), agency(BEIJING)),
    ),
}

ACTIONS = route_actions(create_app(TransferSettings()))


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
async def transfer(app) -> None:
    """The person's employee enrollment pools in Qingdao (the other person's in Jinan), and a
    transfer of it to Suzhou is requested (across provinces: it waits for the out-region)."""
    async with app.state.pool.acquire() as conn:
        for person_id, region in ((PERSON, QINGDAO), (OTHER, JINAN)):
            await enrollments.insert_enrollment(
                conn,
                enrollments.Enrollment(
                    f"en-{person_id[-8:]}", person_id, "310", region, date(2025, 1, 1)
                ),
            )
    async with client_of(app, "transfer") as client:
        response = await client.post(
            "/transfers",
            json={"person_id": PERSON, "to_region": SUZHOU},
            headers=bearer("transfer", **THE_PERSON),
        )
    assert response.status_code == 201, response.text
    TRANSFER["id"] = response.json()["transfer_id"]


async def send(
    client: httpx.AsyncClient, route: tuple[str, str], options: dict[str, Any]
) -> httpx.Response:
    case = CASES[route]
    url = case.url.format(transfer_id=TRANSFER["id"])
    return await client.request(
        route[0], url, json=case.body, headers=bearer("transfer", **options)
    )


async def outbox_size(db) -> int:
    return await db.fetchval("select count(*) from outbox")


def test_every_route_declares_an_action_and_has_a_case(app) -> None:
    assert assert_every_route_declares_an_action(app) == ACTIONS
    assert set(CASES) == set(ACTIONS)


@pytest.mark.parametrize("route", list(CASES), ids=" ".join)
async def test_no_token_is_401(client, route) -> None:
    case = CASES[route]
    url = case.url.format(transfer_id=TRANSFER["id"])
    response = await without_token(client, route[0], url, json=case.body)
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
