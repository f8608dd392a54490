"""Who reaches what in the enrollment API, route by route (chs_events.policy): no token is 401,
a kind of caller the route's action does not permit is 403, a permitted kind on another's
person, employer or region is 403 or 404, and on its own it passes."""

import itertools
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from stdnum.cn import ric

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.clock import today
from chs_events.events.contacts import PersonContact
from chs_events.identity import derive_person_id
from chs_events.policy import Kind, permits_of
from chs_events.service import route_actions
from tests.support.access import assert_every_route_declares_an_action
from tests.support.service import outbox_of, service_fixtures, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

SECRET = "access-test-secret"
ADMIN_TOKEN = "access-admin-token"
QINGDAO, JINAN_AGENCY = "370200", "370100"
_serial = itertools.count(1)

settings, app, client, db = service_fixtures(
    "enrollment", EnrollmentSettings, create_app, admin_token=ADMIN_TOKEN, person_id_secret=SECRET
)


def new_id_number() -> str:
    n = next(_serial)
    body = f"370202199104{n % 28 + 1:02d}{n // 28 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def new_mobile() -> str:
    return f"1395321{secrets.randbelow(10_000):04d}"


def person_of(id_number: str) -> str:
    return derive_person_id(id_number, SECRET.encode())


def person_body(id_number: str | None = None) -> dict:
    return {
        "id_number": id_number or new_id_number(),
        "name": "王芳",
        "mobile": new_mobile(),
        "region_code": "370202",
    }


def staff_body() -> dict:
    return {
        "items": [
            {
                **person_body(),
                "region_code": "370212",
                "contribution_base_fen": 600000,
                "start_date": "2025-01-01",
            }
        ]
    }


@dataclass(frozen=True)
class Call:
    """One request by a caller of ``kind`` with ``claims``."""

    kind: str
    url: str
    body: dict | None = None
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    own: list[Call]  # the permitted kinds, each on its own target
    foreign: list[Call] = field(default_factory=list)  # permitted kinds, another's target


ROUTES = [
    ("POST", "/persons"),
    ("GET", "/persons/{person_id}"),
    ("GET", "/persons/{person_id}/certificate"),
    ("PUT", "/persons/{person_id}/contact"),
    ("POST", "/persons/{person_id}/contact/confirmation"),
    ("POST", "/persons/{person_id}/enrollments"),
    ("POST", "/employers"),
    ("POST", "/employers/{employer_id}/staff/batch-add"),
    ("POST", "/employers/{employer_id}/staff/batch-remove"),
    ("POST", "/newborns"),
    ("POST", "/contributions"),
    ("POST", "/institutions"),
    ("PUT", "/institutions/{code}"),
    ("GET", "/institutions"),
    ("GET", "/institutions/{code}"),
]


async def send(client: httpx.AsyncClient, method: str, call: Call) -> httpx.Response:
    headers = bearer("enrollment", kind=call.kind, **call.claims)
    return await client.request(method, call.url, json=call.body, headers=headers)


async def _ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
async def routes(client, db) -> AsyncIterator[dict[tuple[str, str], Route]]:
    """Targets made through the API: a Qingdao resident (enrolled in 370200), a person not yet
    enrolled, an employer with one staff member, a person with a mobile change to confirm."""
    agency = bearer("enrollment", kind="agency")
    resident = await _ok(await client.post("/persons", json=person_body(), headers=agency))
    pid = resident["person_id"]
    enrollment = await _ok(
        await client.post(
            f"/persons/{pid}/enrollments",
            json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2025-01-01"},
            headers=agency,
        )
    )
    fresh, fresh2, fresh3 = [
        (await _ok(await client.post("/persons", json=person_body(), headers=agency)))["person_id"]
        for _ in range(3)
    ]
    confirming = (await _ok(await client.post("/persons", json=person_body(), headers=agency)))[
        "person_id"
    ]
    own_confirming = {"person_id": confirming}
    requested = await send(
        client,
        "PUT",
        Call("person", f"/persons/{confirming}/contact", {"mobile": new_mobile()}, own_confirming),
    )
    assert requested.status_code == 202, requested.text
    contact = (await outbox_of(db, confirming))[-1].event
    assert isinstance(contact, PersonContact) and contact.pending is not None
    code = {"code": contact.pending.code}
    employer = await _ok(
        await client.post(
            "/employers",
            json={"name": "青岛东港机械有限公司", "region_code": QINGDAO},
            headers={"X-Admin-Token": ADMIN_TOKEN},
        )
    )
    eid = employer["employer_id"]
    staff = await _ok(
        await client.post(
            f"/employers/{eid}/staff/batch-add",
            json=staff_body(),
            headers={"X-API-Key": employer["api_key"]},
        )
    )
    staff_id = staff["items"][0]["person_id"]
    own_id = new_id_number()
    stranger = {"person_id": person_of(new_id_number())}
    other_employer = {"employer_id": "E9999999999"}
    own_person, own_employer = {"person_id": pid}, {"employer_id": eid}
    jinan = {"region": JINAN_AGENCY}
    resident_body = {"insutype": "390", "pooling_region": QINGDAO, "start_date": "2025-02-01"}
    employee_body = {"insutype": "310", "employer_id": eid, "contribution_base_fen": 500000}
    newborn = {
        "name": "王小宝",
        "sex": "F",
        "birth_date": (today() - timedelta(days=10)).isoformat(),
        "guardian_person_id": pid,
        "pooling_region": QINGDAO,
    }

    def newborn_body() -> dict:
        return {**newborn, "birth_certificate_no": f"Q37{secrets.randbelow(10**7):07d}"}

    institution = {
        "code": f"H3702{secrets.randbelow(10**7):07d}",
        "name": "青岛市崂山区人民医院",
        "level": 2,
        "region": "370212",
    }
    registered = await _ok(
        await client.post(
            "/institutions",
            json={**institution, "code": f"H3702{secrets.randbelow(10**7):07d}"},
            headers={"X-Admin-Token": ADMIN_TOKEN},
        )
    )

    yield {
        ("POST", "/persons"): Route(
            own=[
                Call("person", "/persons", person_body(own_id), {"person_id": person_of(own_id)}),
                Call("agency", "/persons", person_body()),
            ],
            foreign=[Call("person", "/persons", person_body(), stranger)],
        ),
        ("GET", "/persons/{person_id}"): Route(
            own=[
                Call("person", f"/persons/{pid}", claims=own_person),
                Call("agency", f"/persons/{pid}"),
            ],
            foreign=[
                Call("person", f"/persons/{pid}", claims=stranger),
                Call("agency", f"/persons/{pid}", claims=jinan),
                Call("agency", f"/persons/{fresh}"),  # enrolled nowhere yet
            ],
        ),
        ("GET", "/persons/{person_id}/certificate"): Route(
            own=[
                Call("person", f"/persons/{pid}/certificate", claims=own_person),
                Call("agency", f"/persons/{pid}/certificate"),
            ],
            foreign=[
                Call("person", f"/persons/{pid}/certificate", claims=stranger),
                Call("agency", f"/persons/{pid}/certificate", claims=jinan),
            ],
        ),
        ("PUT", "/persons/{person_id}/contact"): Route(
            own=[
                Call(
                    "person",
                    f"/persons/{pid}/contact",
                    {"mobile": new_mobile()},
                    own_person,
                )
            ],
            foreign=[Call("person", f"/persons/{pid}/contact", {"mobile": new_mobile()}, stranger)],
        ),
        ("POST", "/persons/{person_id}/contact/confirmation"): Route(
            own=[
                Call("person", f"/persons/{confirming}/contact/confirmation", code, own_confirming)
            ],
            foreign=[Call("person", f"/persons/{pid}/contact/confirmation", code, stranger)],
        ),
        ("POST", "/persons/{person_id}/enrollments"): Route(
            own=[
                Call(
                    "person", f"/persons/{fresh}/enrollments", resident_body, {"person_id": fresh}
                ),
                Call("agency", f"/persons/{fresh2}/enrollments", resident_body),
                Call(
                    "employer",
                    f"/persons/{fresh3}/enrollments",
                    employee_body,
                    own_employer,
                ),
            ],
            foreign=[
                Call("person", f"/persons/{pid}/enrollments", resident_body, stranger),
                Call("agency", f"/persons/{pid}/enrollments", resident_body, jinan),
                Call("employer", f"/persons/{pid}/enrollments", employee_body, other_employer),
                # an employer's token does not enroll residents, even its own staff
                Call(
                    "employer",
                    f"/persons/{staff_id}/enrollments",
                    resident_body,
                    own_employer,
                ),
            ],
        ),
        ("POST", "/employers"): Route(
            own=[
                Call(
                    "admin", "/employers", {"name": "青岛南山纸业有限公司", "region_code": QINGDAO}
                )
            ]
        ),
        ("POST", "/employers/{employer_id}/staff/batch-add"): Route(
            own=[
                Call(
                    "employer",
                    f"/employers/{eid}/staff/batch-add",
                    staff_body(),
                    own_employer,
                )
            ],
            foreign=[
                Call("employer", f"/employers/{eid}/staff/batch-add", staff_body(), other_employer)
            ],
        ),
        ("POST", "/employers/{employer_id}/staff/batch-remove"): Route(
            own=[
                Call(
                    "employer",
                    f"/employers/{eid}/staff/batch-remove",
                    {"items": [{"person_id": staff_id}]},
                    own_employer,
                )
            ],
            foreign=[
                Call(
                    "employer",
                    f"/employers/{eid}/staff/batch-remove",
                    {"items": [{"person_id": staff_id}]},
                    other_employer,
                )
            ],
        ),
        ("POST", "/newborns"): Route(
            own=[
                Call("person", "/newborns", newborn_body(), own_person),
                Call("institution", "/newborns", newborn_body()),
            ],
            foreign=[Call("person", "/newborns", newborn_body(), stranger)],
        ),
        ("POST", "/contributions"): Route(
            own=[
                Call(
                    "collector",
                    "/contributions",
                    {
                        "payment_id": f"AC-{secrets.token_hex(4)}",
                        "enrollment_id": enrollment["enrollment_id"],
                        "period": "202501",
                        "amount_fen": 38000,
                    },
                )
            ]
        ),
        ("POST", "/institutions"): Route(own=[Call("admin", "/institutions", institution)]),
        ("PUT", "/institutions/{code}"): Route(
            own=[
                Call(
                    "admin",
                    f"/institutions/{registered['code']}",
                    {"name": "青岛市崂山区中心医院", "level": 3},
                )
            ]
        ),
        # the registry is read by every kind of caller
        ("GET", "/institutions"): Route(own=[Call(kind, "/institutions") for kind in Kind]),
        ("GET", "/institutions/{code}"): Route(
            own=[Call(kind, "/institutions/H37020200017") for kind in Kind]
        ),
    }


def test_every_route_declares_an_action_and_is_in_the_table(app) -> None:
    assert set(assert_every_route_declares_an_action(app)) == set(ROUTES)


def _action(app: Any, route: tuple[str, str]) -> str:
    return route_actions(app)[route]


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_without_a_token_is_401(client, routes, route) -> None:
    call = routes[route].own[0]
    response = await without_token(client, route[0], call.url, json=call.body)

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"]


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_kinds_the_action_does_not_permit_are_403(app, client, routes, route) -> None:
    permitted = {permit.kind.value for permit in permits_of(_action(app, route))}
    call = routes[route].own[0]
    for kind in {k.value for k in Kind} - permitted:
        response = await send(client, route[0], Call(kind, call.url, call.body))
        assert response.status_code == 403, (kind, response.text)


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_another_callers_target_is_refused(client, routes, route) -> None:
    for call in routes[route].foreign:
        response = await send(client, route[0], call)
        assert response.status_code in (403, 404), (call, response.text)


@pytest.mark.parametrize("route", ROUTES, ids=" ".join)
async def test_each_permitted_kind_reaches_its_own(app, client, routes, route) -> None:
    permitted = {permit.kind.value for permit in permits_of(_action(app, route))}
    assert permitted <= {call.kind for call in routes[route].own}
    for call in routes[route].own:
        response = await send(client, route[0], call)
        assert response.status_code not in (401, 403), (call, response.text)
        assert response.status_code < 400, (call, response.text)
