"""Who reaches what in the enrollment API, route by route (chs_events.policy): no token is 401,
a kind of caller the route's action does not permit is 403, a permitted kind on another's
person, employer or region is 403 or 404, and on its own it passes."""

import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from stdnum.cn import ric

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.clock import today
from chs_events.events.contacts import PersonContact
from chs_events.identity import derive_person_id
from chs_events.policy import Kind
from tests.support.access import Access, Ask, access_tests, send
from tests.support.service import outbox_of, service_fixtures
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


def call(kind: str, url: str, body: dict | None = None, claims: dict | None = None) -> Ask:
    """One request by a caller of ``kind`` with ``claims``."""
    return Ask({"kind": kind, **(claims or {})}, url, json=body)


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


async def _ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
async def access(client, db) -> AsyncIterator[dict[tuple[str, str], Access]]:
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
        "enrollment",
        "PUT",
        call("person", f"/persons/{confirming}/contact", {"mobile": new_mobile()}, own_confirming),
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
        ("POST", "/persons"): Access(
            own=[
                call("person", "/persons", person_body(own_id), {"person_id": person_of(own_id)}),
                call("agency", "/persons", person_body()),
            ],
            others=[call("person", "/persons", person_body(), stranger)],
        ),
        ("GET", "/persons/{person_id}"): Access(
            own=[
                call("person", f"/persons/{pid}", claims=own_person),
                call("agency", f"/persons/{pid}"),
            ],
            others=[
                call("person", f"/persons/{pid}", claims=stranger),
                call("agency", f"/persons/{pid}", claims=jinan),
                call("agency", f"/persons/{fresh}"),  # enrolled nowhere yet
            ],
        ),
        ("GET", "/persons/{person_id}/certificate"): Access(
            own=[
                call("person", f"/persons/{pid}/certificate", claims=own_person),
                call("agency", f"/persons/{pid}/certificate"),
            ],
            others=[
                call("person", f"/persons/{pid}/certificate", claims=stranger),
                call("agency", f"/persons/{pid}/certificate", claims=jinan),
            ],
        ),
        ("PUT", "/persons/{person_id}/contact"): Access(
            own=[
                call(
                    "person",
                    f"/persons/{pid}/contact",
                    {"mobile": new_mobile()},
                    own_person,
                )
            ],
            others=[call("person", f"/persons/{pid}/contact", {"mobile": new_mobile()}, stranger)],
        ),
        ("POST", "/persons/{person_id}/contact/confirmation"): Access(
            own=[
                call("person", f"/persons/{confirming}/contact/confirmation", code, own_confirming)
            ],
            others=[call("person", f"/persons/{pid}/contact/confirmation", code, stranger)],
        ),
        ("POST", "/persons/{person_id}/enrollments"): Access(
            own=[
                call(
                    "person", f"/persons/{fresh}/enrollments", resident_body, {"person_id": fresh}
                ),
                call("agency", f"/persons/{fresh2}/enrollments", resident_body),
                call(
                    "employer",
                    f"/persons/{fresh3}/enrollments",
                    employee_body,
                    own_employer,
                ),
            ],
            others=[
                call("person", f"/persons/{pid}/enrollments", resident_body, stranger),
                call("agency", f"/persons/{pid}/enrollments", resident_body, jinan),
                call("employer", f"/persons/{pid}/enrollments", employee_body, other_employer),
                # an employer's token does not enroll residents, even its own staff
                call(
                    "employer",
                    f"/persons/{staff_id}/enrollments",
                    resident_body,
                    own_employer,
                ),
            ],
        ),
        ("POST", "/employers"): Access(
            own=[
                call(
                    "admin", "/employers", {"name": "青岛南山纸业有限公司", "region_code": QINGDAO}
                )
            ],
            challenge="ApiKey",  # its own authentication: the admin token
        ),
        ("POST", "/employers/{employer_id}/staff/batch-add"): Access(
            own=[
                call(
                    "employer",
                    f"/employers/{eid}/staff/batch-add",
                    staff_body(),
                    own_employer,
                )
            ],
            others=[
                call("employer", f"/employers/{eid}/staff/batch-add", staff_body(), other_employer)
            ],
            challenge="ApiKey",  # a bearer token or the employer's API key
        ),
        ("POST", "/employers/{employer_id}/staff/batch-remove"): Access(
            own=[
                call(
                    "employer",
                    f"/employers/{eid}/staff/batch-remove",
                    {"items": [{"person_id": staff_id}]},
                    own_employer,
                )
            ],
            others=[
                call(
                    "employer",
                    f"/employers/{eid}/staff/batch-remove",
                    {"items": [{"person_id": staff_id}]},
                    other_employer,
                )
            ],
            challenge="ApiKey",  # a bearer token or the employer's API key
        ),
        ("POST", "/newborns"): Access(
            own=[
                call("person", "/newborns", newborn_body(), own_person),
                call("institution", "/newborns", newborn_body()),
            ],
            others=[call("person", "/newborns", newborn_body(), stranger)],
        ),
        ("POST", "/contributions"): Access(
            own=[
                call(
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
        ("POST", "/institutions"): Access(
            own=[call("admin", "/institutions", institution)], challenge="ApiKey"
        ),
        ("PUT", "/institutions/{code}"): Access(
            own=[
                call(
                    "admin",
                    f"/institutions/{registered['code']}",
                    {"name": "青岛市崂山区中心医院", "level": 3},
                )
            ],
            challenge="ApiKey",
        ),
        # the registry is read by every kind of caller
        ("GET", "/institutions"): Access(own=[call(kind, "/institutions") for kind in Kind]),
        ("GET", "/institutions/{code}"): Access(
            own=[call(kind, "/institutions/H37020200017") for kind in Kind]
        ),
    }


test_every_route_declares_an_action, test_access = access_tests(
    "enrollment", ROUTES, own_status=range(200, 400)
)
