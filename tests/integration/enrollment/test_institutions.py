"""The registry of designated institutions in the enrollment API, against a real PostgreSQL
server: the admin registers an institution (201, InstitutionRegistered on
chs.registry.institutions keyed by its code), the same again is 200 and records nothing, other
data under a known code is 409; every caller kind reads the registry."""

import secrets

import httpx
import pytest

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.events.institutions import InstitutionChanged, InstitutionRegistered
from chs_events.institutions import seeded, seeded_institutions
from chs_events.policy import Kind
from chs_events.topics import BY_NAME, REGISTRY_INSTITUTIONS
from tests.support.service import outbox_of, service_fixtures, types, without_token
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "institutions-admin-token"
PROBLEM = "application/problem+json"
REGISTERED = "chs.registry.institution.registered.v1"

settings, app, client, db = service_fixtures(
    "enrollment", EnrollmentSettings, create_app, admin_token=ADMIN_TOKEN
)


def admin() -> dict[str, str]:
    return bearer("enrollment", kind="admin")


def new_code() -> str:
    return f"H3702{secrets.randbelow(10**7):07d}"


def institution_body(code: str | None = None, **changes: object) -> dict:
    return {
        "code": code or new_code(),
        "name": "青岛市崂山区人民医院",
        "level": 2,
        "region": "370212",
        **changes,
    }


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        assert [e for e in problem["errors"] if e["field"] == field], problem
    return problem


async def test_the_admin_registers_an_institution_published_under_its_code(client, db) -> None:
    body = institution_body()

    response = await client.post(
        "/institutions", json=body, headers={**admin(), "X-Request-Id": "registry-1"}
    )

    assert response.status_code == 201, response.text
    assert response.json() == body
    assert response.headers["location"] == f"/institutions/{body['code']}"
    [envelope] = await outbox_of(db, body["code"])
    assert (envelope.type, envelope.topic, envelope.key) == (
        REGISTERED,
        REGISTRY_INSTITUTIONS,
        body["code"],
    )
    assert envelope.correlation_id == "registry-1"
    assert envelope.event == InstitutionRegistered(
        institution_code=body["code"],
        institution_name="青岛市崂山区人民医院",
        institution_level=2,
        institution_region="370212",
    )
    assert BY_NAME[REGISTRY_INSTITUTIONS].key == "institution_code"
    assert (await client.get(f"/institutions/{body['code']}")).json() == body


async def test_the_admin_token_header_registers_too(client, db) -> None:
    body = institution_body()

    response = await without_token(
        client, "POST", "/institutions", json=body, headers={"X-Admin-Token": ADMIN_TOKEN}
    )

    assert response.status_code == 201, response.text
    assert types(await outbox_of(db, body["code"])) == [REGISTERED]


async def test_the_same_institution_again_is_200_and_records_nothing(client, db) -> None:
    body = institution_body()
    first = await client.post("/institutions", json=body, headers=admin())

    again = await client.post("/institutions", json=body, headers=admin())

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == body
    assert types(await outbox_of(db, body["code"])) == [REGISTERED]


async def test_other_data_under_a_registered_code_is_409(client, db) -> None:
    body = institution_body()
    await client.post("/institutions", json=body, headers=admin())

    for changed in ({"name": "青岛市崂山区中医医院"}, {"level": 3}, {"region": "370202"}):
        response = await client.post("/institutions", json={**body, **changed}, headers=admin())
        problem = assert_problem(response, 409)
        assert problem["registered"] == {"name": body["name"], "level": 2, "region": "370212"}
    assert types(await outbox_of(db, body["code"])) == [REGISTERED]


async def test_the_data_file_s_institutions_are_registered_already(client, db) -> None:
    known = seeded("H37020200017")
    assert known is not None
    same = {"code": known.code, "name": known.name, "level": known.level, "region": known.region}

    again = await client.post("/institutions", json=same, headers=admin())
    other = await client.post("/institutions", json={**same, "level": 2}, headers=admin())

    assert again.status_code == 200 and again.json() == same
    assert_problem(other, 409)
    assert await outbox_of(db, known.code) == []
    assert (await client.get(f"/institutions/{known.code}")).json() == same


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "H3702021234"}, "code"),  # 10 digits
        ({"code": "X37020212345"}, "code"),
        ({"code": "h37020212345"}, "code"),
        ({"level": 4}, "level"),
        ({"level": "三级"}, "level"),
        ({"region": "379999"}, "region"),  # not a GB/T 2260 code
        ({"region": "3702"}, "region"),
        ({"name": " "}, "name"),
        ({"name": "青岛市崂山区人民医院，请致电 40000000"}, "name"),  # a number an SMS would tell
        ({"name": "青岛\n医院"}, "name"),
        ({"contact": "0532-88888888"}, "contact"),  # unknown fields are refused
    ],
)
async def test_a_bad_body_is_a_422_problem_naming_the_field(client, db, changes, field) -> None:
    body = institution_body(**changes)

    response = await client.post("/institutions", json=body, headers=admin())

    assert_problem(response, 422, field)
    assert await outbox_of(db, body["code"]) == []


async def test_only_the_admin_registers(client) -> None:
    body = institution_body()

    missing = await without_token(client, "POST", "/institutions", json=body)
    wrong = await without_token(
        client, "POST", "/institutions", json=body, headers={"X-Admin-Token": "guess"}
    )
    refused = [
        await client.post("/institutions", json=body, headers=bearer("enrollment", kind=kind))
        for kind in Kind
        if kind is not Kind.ADMIN
    ]

    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "ApiKey"
    assert_problem(wrong, 401)
    for response in refused:
        assert_problem(response, 403)
    assert_problem(await client.get(f"/institutions/{body['code']}"), 404)


async def test_every_caller_kind_reads_the_registry(client) -> None:
    body = institution_body()
    await client.post("/institutions", json=body, headers=admin())

    for kind in Kind:
        headers = bearer("enrollment", kind=kind)
        listed = await client.get("/institutions", headers=headers)
        one = await client.get(f"/institutions/{body['code']}", headers=headers)
        assert listed.status_code == 200 and one.status_code == 200, (kind, listed.text)
        codes = [item["code"] for item in listed.json()]
        assert codes == sorted(codes) and body["code"] in codes
        assert {i.code for i in seeded_institutions()} <= set(codes)
        assert one.json() == body
    assert_problem(await without_token(client, "GET", "/institutions"), 401)
    assert_problem(await client.get("/institutions/H00000000000"), 404)


CHANGED = "chs.registry.institution.changed.v1"


async def test_the_admin_changes_a_name_or_level_published_as_it_now_is(client, db) -> None:
    body = institution_body()
    await client.post("/institutions", json=body, headers=admin())
    url = f"/institutions/{body['code']}"

    changed = await client.put(url, json={"name": " 青岛市崂山区中心医院", "level": 3})
    again = await client.put(url, json={"name": "青岛市崂山区中心医院", "level": 3})

    now = {**body, "name": "青岛市崂山区中心医院", "level": 3}
    assert changed.status_code == 200, changed.text
    assert changed.json() == again.json() == now
    assert (await client.get(url)).json() == now
    registered, change = await outbox_of(db, body["code"])
    assert (registered.type, change.type, change.key) == (REGISTERED, CHANGED, body["code"])
    assert change.event == InstitutionChanged(
        institution_code=body["code"],
        institution_name="青岛市崂山区中心医院",
        institution_level=3,
        institution_region="370212",
    )
    # registering the data it had before is now a conflict; its data now is not
    assert_problem(await client.post("/institutions", json=body, headers=admin()), 409)
    assert (await client.post("/institutions", json=now, headers=admin())).status_code == 200


async def test_a_change_needs_the_admin_a_registered_code_and_a_good_body(client, db) -> None:
    body = institution_body()
    await client.post("/institutions", json=body, headers=admin())
    url = f"/institutions/{body['code']}"
    change = {"name": "青岛市崂山区中心医院", "level": 3}

    assert_problem(await without_token(client, "PUT", url, json=change), 401)
    for kind in Kind:
        if kind is not Kind.ADMIN:
            refused = await client.put(url, json=change, headers=bearer("enrollment", kind=kind))
            assert_problem(refused, 403)
    assert_problem(await client.put(url, json={**change, "level": 5}), 422, "level")
    assert_problem(await client.put(url, json={**change, "region": "370202"}), 422, "region")
    assert_problem(await client.put(f"/institutions/{new_code()}", json=change), 404)
    in_data_file = await client.put("/institutions/H37020200017", json=change)
    assert assert_problem(in_data_file, 409)["rule"] == "institution_in_data_file"
    assert types(await outbox_of(db, body["code"])) == [REGISTERED]
    by_header = await without_token(
        client, "PUT", url, json=change, headers={"X-Admin-Token": ADMIN_TOKEN}
    )
    assert by_header.status_code == 200, by_header.text
    assert types(await outbox_of(db, body["code"])) == [REGISTERED, CHANGED]
