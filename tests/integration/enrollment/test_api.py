"""The enrollment API in-process against a real PostgreSQL server (one fresh database for this
module) and, for the relay, a real Kafka broker."""

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from stdnum.cn import ric

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.admin import ensure_topics
from chs_events.clock import CHINA, today
from chs_events.envelope import Envelope
from chs_events.identity import derive_newborn_person_id, derive_person_id
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.topics import BY_NAME, ENROLLMENT_CONTACTS, ENROLLMENT_EVENTS
from tests.support.service import (
    outbox_of,
    service_fixtures,
    types,
    without_token,
)
from tests.support.tokens import EnrollmentCallers

pytestmark = pytest.mark.integration


def payload(envelope: Envelope) -> Any:
    """The envelope's event, its fields read by name (``outbox_of`` validated its type)."""
    return envelope.event


SECRET = "integration-test-secret"
ADMIN_TOKEN = "integration-admin-token"
EMPLOYER_NAME, OTHER_EMPLOYER_NAME = "青岛海川电子有限公司", "青岛北岸食品有限公司"
PROBLEM = "application/problem+json"
P = "chs.enrollment."
REGISTERED, STAFF_ADDED, ENROLLED = (
    P + "person.registered.v2",
    P + "staff.added.v1",
    P + "registered.v1",
)
STAFF_REMOVED, TERMINATED = P + "staff.removed.v1", P + "terminated.v1"
NEWBORN, PAID, CONTACT = (
    P + "newborn.enrolled.v2",
    P + "contribution.paid.v1",
    P + "person.contact-changed.v2",
)
PERSON_CONTACT = P + "contact.v1"  # on chs.enrollment.contacts, for notification alone

_serial = itertools.count(1)


def new_id_number(birth: date = date(1990, 3, 7), region: str = "370202") -> str:
    """A valid, unused ID number (male: odd 17th digit)."""
    body = f"{region}{birth:%Y%m%d}{next(_serial) * 2 % 1000 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


def new_mobile() -> str:
    return f"1385321{next(_serial):04d}"


def person_id(id_number: str) -> str:
    return derive_person_id(id_number, SECRET.encode())


# --- fixtures ----------------------------------------------------------------------------------


settings, app, _, db = service_fixtures(
    "enrollment", EnrollmentSettings, create_app, admin_token=ADMIN_TOKEN, person_id_secret=SECRET
)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with EnrollmentCallers(
        transport=httpx.ASGITransport(app=app), base_url="http://enrollment"
    ) as client:
        yield client


async def register(client: httpx.AsyncClient, **overrides: str) -> dict:
    body = {
        "id_number": new_id_number(),
        "name": "张伟",
        "mobile": new_mobile(),
        "region_code": "370202",
        **overrides,
    }
    response = await client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def new_employer(client: httpx.AsyncClient, name: str = EMPLOYER_NAME) -> dict:
    response = await client.post(
        "/employers",
        json={"name": name, "region_code": "370200"},
        headers={"X-Admin-Token": ADMIN_TOKEN},
    )
    assert response.status_code == 201, response.text
    return response.json()


def staff_item(id_number: str | None = None, **overrides: object) -> dict:
    return {
        "id_number": id_number or new_id_number(),
        "name": "李娜",
        "mobile": new_mobile(),
        "region_code": "370212",
        "contribution_base_fen": 650000,
        "start_date": "2025-01-01",
        **overrides,
    }


async def add_staff(
    client: httpx.AsyncClient, employer: dict, items: list[dict], **headers: str
) -> httpx.Response:
    return await client.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        json={"items": items},
        headers={"X-API-Key": employer["api_key"], **headers},
    )


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None, reason: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        matching = [e for e in problem["errors"] if e["field"] == field]
        assert matching, problem
        if reason is not None:
            assert matching[0]["reason"] == reason, problem
    return problem


# --- persons -----------------------------------------------------------------------------------


async def test_register_person_answers_201_with_masked_identity(client, db) -> None:
    id_number, mobile = new_id_number(date(1990, 3, 7)), "13853212345"
    response = await client.post(
        "/persons",
        json={"id_number": id_number, "name": "张伟", "mobile": mobile, "region_code": "370202"},
        headers={"X-Request-Id": "req-register-1"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["person_id"] == person_id(id_number)
    assert body["id_number_masked"] == f"3702**********{id_number[-4:]}"
    assert body["mobile_masked"] == "138****2345"
    assert (body["sex"], body["birth_date"], body["enrollments"]) == ("M", "1990-03-07", [])
    assert id_number not in response.text and mobile not in response.text
    assert response.headers["location"] == f"/persons/{body['person_id']}"
    [event, contact] = await outbox_of(db, body["person_id"])
    assert event.type == REGISTERED and event.source == "/chs/enrollment"
    assert event.correlation_id == contact.correlation_id == "req-register-1"
    assert payload(event).region_code == "370202" and payload(event).sex == "M"
    # the name and mobile go only to the contacts topic, read by notification alone
    assert contact.type == PERSON_CONTACT and contact.event.topic == "chs.enrollment.contacts"
    assert (payload(contact).name, payload(contact).mobile) == ("张伟", mobile)
    assert mobile not in event.to_record().value.decode()
    fetched = await client.get(f"/persons/{body['person_id']}")
    assert fetched.status_code == 200 and fetched.json() == body


async def test_registering_the_same_id_number_twice_conflicts(client) -> None:
    id_number = new_id_number()
    person = await register(client, id_number=id_number)

    response = await client.post(
        "/persons",
        json={
            "id_number": id_number,
            "name": "张伟",
            "mobile": new_mobile(),
            "region_code": "370202",
        },
    )

    problem = assert_problem(response, 409)
    # no oracle from an ID number to its person_id
    assert "person_id" not in problem and person["person_id"] not in response.text


@pytest.mark.parametrize(
    ("id_number", "reason"),
    [
        ("370202199003071235", "check digit is 5, expected 3"),
        ("37020219900307123", "17 characters, expected 18"),
        ("370202199002301236", "birth date 1990-02-30 does not exist"),
        ("3702021990030712A3", "character 17 is 'A', expected a digit"),
    ],
)
async def test_invalid_id_number_is_refused_naming_it(client, id_number, reason) -> None:
    response = await client.post(
        "/persons",
        json={
            "id_number": id_number,
            "name": "张伟",
            "mobile": new_mobile(),
            "region_code": "370202",
        },
    )

    problem = assert_problem(response, 422, "id_number", reason)
    assert problem["type"] == "/problems/invalid-request"
    assert f"id_number: {reason}" in problem["detail"]


@pytest.mark.parametrize(
    ("mobile", "reason"),
    [
        ("1385321234", "10 digits, expected 11"),
        ("053288886666", "a fixed-line number, not a mobile number"),
        ("1385321ABCD", "only digits, spaces, hyphens and a leading + are allowed"),
    ],
)
async def test_invalid_mobile_is_refused_naming_it(client, mobile, reason) -> None:
    response = await client.post(
        "/persons",
        json={
            "id_number": new_id_number(),
            "name": "张伟",
            "mobile": mobile,
            "region_code": "370202",
        },
    )

    assert_problem(response, 422, "mobile", reason)


@pytest.mark.parametrize(
    ("region_code", "reason"),
    [
        ("379999", "region code 379999 is not a GB/T 2260 code"),
        ("3702", "'3702' is not 6 digits"),
    ],
)
async def test_invalid_region_code_is_refused_naming_it(client, region_code, reason) -> None:
    response = await client.post(
        "/persons",
        json={
            "id_number": new_id_number(),
            "name": "张伟",
            "mobile": new_mobile(),
            "region_code": region_code,
        },
    )

    assert_problem(response, 422, "region_code", reason)


async def test_malformed_json_is_a_422_problem(client) -> None:
    response = await client.post(
        "/persons", content=b'{"id_number": "3702', headers={"content-type": "application/json"}
    )

    assert_problem(response, 422)


async def test_bad_http_input_gets_problem_bodies(client) -> None:
    missing = await client.post("/persons", json={"name": "张伟"})
    assert_problem(missing, 422, "id_number")
    extra = await client.post(
        "/persons",
        json={
            "id_number": new_id_number(),
            "name": "张伟",
            "mobile": new_mobile(),
            "region_code": "370202",
            "nickname": "x",
        },
    )
    assert_problem(extra, 422, "nickname")
    assert_problem(await client.get("/persons/p" + "0" * 32), 404)
    assert_problem(await client.get("/nowhere"), 404)
    assert_problem(await client.delete("/persons"), 405)


async def requested_code(db, person_id: str) -> str:
    """The one-time code of the person's latest requested change, as notification gets it."""
    contacts = [e for e in await outbox_of(db, person_id) if e.type == PERSON_CONTACT]
    pending = payload(contacts[-1]).pending
    assert pending is not None
    return pending.code


async def test_a_contact_change_takes_effect_only_when_its_code_is_confirmed(client, db) -> None:
    person = await register(client)
    pid, old = person["person_id"], person["mobile_masked"]
    new = new_mobile()

    requested = await client.put(f"/persons/{pid}/contact", json={"mobile": new})

    assert requested.status_code == 202, requested.text
    body = requested.json()
    assert (body["status"], body["mobile_masked"]) == (
        "confirmation_required",
        f"138****{new[-4:]}",
    )
    assert body["expires_at"] is not None and new not in requested.text
    # nothing changed yet: only the code goes out, to the new mobile, through notification
    assert (await client.get(f"/persons/{pid}")).json()["mobile_masked"] == old
    events = await outbox_of(db, pid)
    assert types(events) == [REGISTERED, PERSON_CONTACT, PERSON_CONTACT]
    contact = payload(events[2])
    assert contact.mobile != new and contact.pending.mobile == new
    code = contact.pending.code
    stored = await db.fetchrow("select * from contact_changes where person_id = $1", pid)
    assert stored["mobile"] == new and code not in stored["code_hash"]

    confirmation = f"/persons/{pid}/contact/confirmation"
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(confirmation, json={"code": wrong})
    assert assert_problem(refused, 422)["attempts_left"] == 4
    assert (await client.get(f"/persons/{pid}")).json()["mobile_masked"] == old

    confirmed = await client.post(confirmation, json={"code": code})

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["mobile_masked"] == f"138****{new[-4:]}"
    events = await outbox_of(db, pid)
    assert types(events) == [REGISTERED, PERSON_CONTACT, PERSON_CONTACT, CONTACT, PERSON_CONTACT]
    assert payload(events[4]).mobile == new and payload(events[4]).pending is None
    assert "mobile" not in events[3].event.model_dump()
    # the code is used up; the same mobile again requests nothing
    assert_problem(await client.post(confirmation, json={"code": code}), 404)
    again = await client.put(f"/persons/{pid}/contact", json={"mobile": new})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert len(await outbox_of(db, pid)) == 5
    assert_problem(
        await client.put(f"/persons/{pid}/contact", json={"mobile": "12345"}), 422, "mobile"
    )
    assert_problem(await client.post(confirmation, json={"code": "12ab"}), 422, "code")


async def test_a_contact_code_allows_five_tries_and_expires(client, db) -> None:
    person = await register(client)
    pid = person["person_id"]
    confirmation = f"/persons/{pid}/contact/confirmation"
    await client.put(f"/persons/{pid}/contact", json={"mobile": new_mobile()})
    code = await requested_code(db, pid)
    wrong = "000000" if code != "000000" else "111111"

    left = [
        assert_problem(await client.post(confirmation, json={"code": wrong}), 422)["attempts_left"]
        for _ in range(4)
    ]
    assert left == [4, 3, 2, 1]
    assert_problem(await client.post(confirmation, json={"code": wrong}), 409)
    # the fifth wrong code ended the request: even the right code no longer changes anything
    assert_problem(await client.post(confirmation, json={"code": code}), 404)
    assert (await client.get(f"/persons/{pid}")).json()["mobile_masked"] == person["mobile_masked"]

    await client.put(f"/persons/{pid}/contact", json={"mobile": new_mobile()})
    code = await requested_code(db, pid)
    await db.execute(
        "update contact_changes set expires_at = now() - interval '1 second' where person_id = $1",
        pid,
    )
    assert_problem(await client.post(confirmation, json={"code": code}), 409)
    assert_problem(await client.post(confirmation, json={"code": code}), 404)
    assert (await client.get(f"/persons/{pid}")).json()["mobile_masked"] == person["mobile_masked"]
    assert CONTACT not in types(await outbox_of(db, pid))


async def test_codes_to_new_mobiles_are_limited_per_person_and_hour(client, db) -> None:
    person = await register(client)
    pid = person["person_id"]
    for _ in range(3):
        asked = await client.put(f"/persons/{pid}/contact", json={"mobile": new_mobile()})
        assert asked.status_code == 202, asked.text
    sent = len(await outbox_of(db, pid))

    fourth = await client.put(f"/persons/{pid}/contact", json={"mobile": new_mobile()})

    problem = assert_problem(fourth, 429)
    assert problem["type"] == "/problems/too-many-requests"
    assert 0 < problem["retry_after_seconds"] <= 3600
    assert len(await outbox_of(db, pid)) == sent  # no fourth code SMS
    # an hour later the person may ask again
    await db.execute(
        "update contact_code_requests set requested_at = requested_at - interval '1 hour' "
        "where person_id = $1",
        pid,
    )
    later = await client.put(f"/persons/{pid}/contact", json={"mobile": new_mobile()})
    assert later.status_code == 202, later.text


# --- enrollments -------------------------------------------------------------------------------


async def test_resident_enrollment_and_one_open_per_insutype(client, db) -> None:
    person = await register(client)
    url = f"/persons/{person['person_id']}/enrollments"

    response = await client.post(
        url, json={"insutype": "390", "pooling_region": "370200", "start_date": "2025-01-01"}
    )
    second = await client.post(url, json={"insutype": "390", "pooling_region": "370200"})

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert_problem(second, 409)
    events = await outbox_of(db, person["person_id"])
    assert types(events) == [REGISTERED, PERSON_CONTACT, ENROLLED]
    assert payload(events[2]).insutype == "390" and payload(events[2]).employer_id is None


async def test_employee_enrollment_rules(client, db) -> None:
    person = await register(client)
    employer = await new_employer(client)
    other = await new_employer(client)
    key = {"X-API-Key": employer["api_key"]}
    url = f"/persons/{person['person_id']}/enrollments"
    employee = {
        "insutype": "310",
        "employer_id": employer["employer_id"],
        "contribution_base_fen": 500000,
    }

    assert_problem(await client.post(url, json={"insutype": "310"}), 422, "employer_id")
    assert_problem(await without_token(client, "POST", url, json=employee), 401)
    assert_problem(
        await client.post(url, json=employee, headers={"X-API-Key": other["api_key"]}), 403
    )
    assert_problem(
        await client.post(
            url, headers=key, json={"insutype": "310", "employer_id": employer["employer_id"]}
        ),
        422,
        "contribution_base_fen",
    )
    assert_problem(
        await client.post(url, headers=key, json={**employee, "contribution_base_fen": 5.5}),
        422,
        "contribution_base_fen",
    )
    response = await client.post(url, json=employee, headers=key)

    assert response.status_code == 201, response.text
    assert response.json()["pooling_region"] == "370200"
    [_, _, enrolled] = await outbox_of(db, person["person_id"])
    assert payload(enrolled).employer_name == "青岛海川电子有限公司"
    assert payload(enrolled).contribution_base_fen == 500000


async def test_a_contribution_base_is_within_the_regions_statutory_cap(client, db) -> None:
    """Qingdao's cap for 2025 is 300 % of 9 030.00 yuan (contribution_bases.json): 2 709 000
    fen is an employee's highest base, a fen more is a 422 naming contribution_base_fen, by
    the employer's enrollment and by its staff batch alike; nothing is recorded."""
    person = await register(client)
    employer = await new_employer(client)  # in Qingdao (370200)
    key = {"X-API-Key": employer["api_key"]}
    url = f"/persons/{person['person_id']}/enrollments"
    employee = {
        "insutype": "310",
        "employer_id": employer["employer_id"],
        "start_date": "2025-03-01",
    }
    above = {**employee, "contribution_base_fen": 2_709_001}

    assert_problem(await client.post(url, json=above, headers=key), 422, "contribution_base_fen")
    too_high = staff_item(contribution_base_fen=2_709_001)
    assert_problem(await add_staff(client, employer, [too_high]), 422, "contribution_base_fen")
    assert [t for t in types(await outbox_of(db, person["person_id"])) if t == ENROLLED] == []

    at_cap = await client.post(
        url, json={**employee, "contribution_base_fen": 2_709_000}, headers=key
    )
    assert at_cap.status_code == 201, at_cap.text


# --- employers and staff -----------------------------------------------------------------------


async def test_creating_an_employer_needs_the_admin_token(client) -> None:
    body = {"name": "青岛港湾物流有限公司", "region_code": "370200"}
    assert_problem(await without_token(client, "POST", "/employers", json=body), 401)
    assert_problem(
        await client.post("/employers", json=body, headers={"X-Admin-Token": "wrong"}), 401
    )

    employer = await new_employer(client)

    assert employer["employer_id"].startswith("E") and len(employer["api_key"]) >= 43


async def test_staff_batch_add_records_events_in_order(client, db) -> None:
    employer = await new_employer(client)
    known = await register(client)
    new_number = new_id_number(date(1985, 11, 20), "370212")
    known_number_row = await db.fetchval(
        "select id_number from persons where person_id = $1", known["person_id"]
    )

    response = await add_staff(
        client,
        employer,
        [staff_item(new_number), staff_item(known_number_row, name="张伟")],
        **{"X-Request-Id": "hr-batch-7"},
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["action"], result["count"]) == ("added", 2)
    new_item, known_item = result["items"]
    assert (new_item["index"], new_item["registered"]) == (0, True)
    assert (known_item["index"], known_item["registered"]) == (1, False)
    assert new_item["person_id"] == person_id(new_number)
    events = await outbox_of(db, new_item["person_id"])
    assert types(events) == [REGISTERED, PERSON_CONTACT, STAFF_ADDED, ENROLLED]
    assert all(e.key == new_item["person_id"] and e.correlation_id == "hr-batch-7" for e in events)
    assert payload(events[2]).employer_id == employer["employer_id"]
    assert payload(events[2]).enrollment_id == payload(events[3]).enrollment_id
    assert payload(events[3]).insutype == "310" and payload(events[3]).pooling_region == "370200"
    assert types(await outbox_of(db, known["person_id"])) == [
        REGISTERED,
        PERSON_CONTACT,
        STAFF_ADDED,
        ENROLLED,
    ]


async def test_a_staff_batch_with_an_invalid_item_changes_nothing(client, db) -> None:
    employer = await new_employer(client)
    good = new_id_number()
    before = await db.fetchval("select count(*) from outbox")

    response = await add_staff(
        client,
        employer,
        [
            staff_item(good),
            staff_item("370202199003071235"),
            staff_item(mobile="0532888866"),
            staff_item(good),
        ],
    )

    problem = assert_problem(response, 422, "items.1.id_number", "check digit is 5, expected 3")
    assert {e["field"] for e in problem["errors"]} == {"items.1.id_number", "items.2.mobile"}
    rule = await add_staff(
        client,
        employer,
        [
            staff_item(good),
            staff_item(good),
            staff_item(new_id_number(date(2000, 1, 1)), start_date="1999-12-31"),
        ],
    )
    problem = assert_problem(rule, 422, "items.1.id_number", "the same person as item 0")
    assert_problem(
        rule, 422, "items.2.start_date", "1999-12-31 is before the birth date 2000-01-01"
    )
    assert problem["detail"] == "batch refused, nothing changed: 2 item error(s)"
    assert await db.fetchval("select count(*) from outbox") == before
    assert (
        await db.fetchval("select count(*) from persons where person_id = $1", person_id(good)) == 0
    )


async def test_adding_someone_already_employed_conflicts(client) -> None:
    first, second = await new_employer(client), await new_employer(client, OTHER_EMPLOYER_NAME)
    id_number = new_id_number()
    assert (await add_staff(client, first, [staff_item(id_number)])).status_code == 200

    response = await add_staff(client, second, [staff_item(new_id_number()), staff_item(id_number)])

    problem = assert_problem(response, 409, "items.1")
    assert (problem["type"], problem["title"]) == ("/problems/conflict", "Conflict")


async def test_employer_keys_reach_only_their_own_staff(client, db) -> None:
    owner, other = await new_employer(client), await new_employer(client, OTHER_EMPLOYER_NAME)
    id_number = new_id_number()
    added = await add_staff(client, owner, [staff_item(id_number)])
    staff_id = added.json()["items"][0]["person_id"]
    remove_url = f"/employers/{owner['employer_id']}/staff/batch-remove"
    removal = {"items": [{"id_number": id_number, "end_date": "2025-06-30"}]}

    missing = await without_token(client, "POST", remove_url, json=removal)
    unknown = await client.post(remove_url, json=removal, headers={"X-API-Key": "guess"})
    foreign = await client.post(remove_url, json=removal, headers={"X-API-Key": other["api_key"]})
    foreign_add = await add_staff(client, {**owner, "api_key": other["api_key"]}, [staff_item()])
    own_path = await client.post(
        f"/employers/{other['employer_id']}/staff/batch-remove",
        json=removal,
        headers={"X-API-Key": other["api_key"]},
    )

    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "ApiKey"
    assert_problem(unknown, 401)
    assert_problem(foreign, 403)
    assert_problem(foreign_add, 403)
    problem = assert_problem(own_path, 403, "items.0", "not on this employer's active staff")
    assert (problem["type"], problem["title"]) == ("/problems/forbidden", "Forbidden")
    [enrollment] = (await client.get(f"/persons/{staff_id}")).json()["enrollments"]
    assert (enrollment["end_date"], enrollment["employer_id"]) == (None, owner["employer_id"])
    assert types(await outbox_of(db, staff_id)) == [
        REGISTERED,
        PERSON_CONTACT,
        STAFF_ADDED,
        ENROLLED,
    ]


async def test_staff_batch_remove_terminates_the_enrollments(client, db) -> None:
    employer = await new_employer(client)
    added = await add_staff(client, employer, [staff_item(), staff_item()])
    [first, second] = [item["person_id"] for item in added.json()["items"]]
    url = f"/employers/{employer['employer_id']}/staff/batch-remove"
    headers = {"X-API-Key": employer["api_key"]}

    early = await client.post(
        url, headers=headers, json={"items": [{"person_id": first, "end_date": "2024-12-31"}]}
    )
    both = await client.post(
        url,
        headers=headers,
        json={"items": [{"person_id": first}, {"person_id": second, "id_number": new_id_number()}]},
    )
    mixed = await client.post(
        url,
        headers=headers,
        json={
            "items": [
                {"person_id": first, "end_date": "2024-12-31"},
                {"person_id": person_id(new_id_number()), "end_date": "2025-06-30"},
            ]
        },
    )
    response = await client.post(
        url,
        headers=headers,
        json={"items": [{"person_id": first, "end_date": "2025-06-30"}, {"person_id": second}]},
    )

    problem = assert_problem(early, 422, "items.0.end_date")
    assert problem["type"] == "/problems/unprocessable"
    # The worst item error answers for the batch: not permitted > conflict > not found > rule.
    problem = assert_problem(mixed, 403, "items.1", "not on this employer's active staff")
    assert (problem["type"], problem["title"]) == ("/problems/forbidden", "Forbidden")
    assert [e["field"] for e in problem["errors"]] == ["items.0.end_date", "items.1"]
    assert_problem(both, 422, "items.1")
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 2
    events = await outbox_of(db, first)
    assert types(events) == [
        REGISTERED,
        PERSON_CONTACT,
        STAFF_ADDED,
        ENROLLED,
        STAFF_REMOVED,
        TERMINATED,
    ]
    assert payload(events[5]).reason == "left_employer"
    assert payload(events[5]).end_date == date(2025, 6, 30)
    assert payload(events[5]).enrollment_id == payload(events[3]).enrollment_id
    again = await client.post(url, headers=headers, json={"items": [{"person_id": first}]})
    assert_problem(again, 403)


# --- newborns, contributions, certificate ------------------------------------------------------


async def test_newborn_enrollment_records_newborn_enrolled(client, db) -> None:
    guardian = await register(client)
    birth_date = today() - timedelta(days=20)
    body = {
        "birth_certificate_no": "q370100001",
        "name": "张小宝",
        "sex": "F",
        "birth_date": birth_date.isoformat(),
        "guardian_person_id": guardian["person_id"],
        "pooling_region": "370200",
    }

    response = await client.post("/newborns", json=body, headers={"X-Request-Id": "birth-1"})

    assert response.status_code == 201, response.text
    newborn = response.json()
    assert newborn["person_id"] == derive_newborn_person_id("Q370100001", SECRET.encode())
    assert newborn["birth_certificate_no_masked"] == "Q3******01"
    assert newborn["id_number_masked"] is None and newborn["mobile_masked"] is None
    [enrollment] = newborn["enrollments"]
    assert (enrollment["insutype"], enrollment["start_date"]) == ("390", birth_date.isoformat())
    events = await outbox_of(db, newborn["person_id"])
    assert types(events) == [REGISTERED, PERSON_CONTACT, ENROLLED, NEWBORN]
    assert payload(events[1]).mobile is None
    assert payload(events[1]).guardian_person_id == guardian["person_id"]
    assert payload(events[2]).at_birth is True
    assert payload(events[3]).guardian_person_id == guardian["person_id"]
    assert payload(events[3]).enrollment_id == enrollment["enrollment_id"]
    assert {e.correlation_id for e in events} == {"birth-1"}
    again = await client.post("/newborns", json=body)
    assert "person_id" not in assert_problem(again, 409)


async def test_newborn_rules(client) -> None:
    guardian = await register(client)
    body = {
        "birth_certificate_no": "Q370100002",
        "name": "张小宝",
        "sex": "M",
        "birth_date": today().isoformat(),
        "guardian_person_id": guardian["person_id"],
        "pooling_region": "370200",
    }

    old = await client.post(
        "/newborns", json={**body, "birth_date": (today() - timedelta(days=400)).isoformat()}
    )
    future = await client.post(
        "/newborns", json={**body, "birth_date": (today() + timedelta(days=1)).isoformat()}
    )
    orphan = await client.post("/newborns", json={**body, "guardian_person_id": "p" + "1" * 32})
    bad_number = await client.post("/newborns", json={**body, "birth_certificate_no": "370100"})

    assert_problem(old, 422, "birth_date")
    assert_problem(future, 422, "birth_date")
    assert_problem(orphan, 422, "guardian_person_id")
    assert_problem(bad_number, 422, "birth_certificate_no")


async def test_contribution_is_idempotent_by_payment_id(client, db) -> None:
    employer = await new_employer(client)
    added = await add_staff(client, employer, [staff_item(start_date="2025-01-01")])
    item = added.json()["items"][0]
    payment = {
        "payment_id": f"QD-{secrets.token_hex(4)}",
        "enrollment_id": item["enrollment_id"],
        "period": "202501",
        "amount_fen": 65000,
        "employer_part_fen": 52000,
    }

    first = await client.post("/contributions", json=payment)
    again = await client.post("/contributions", json=payment)
    changed = await client.post("/contributions", json={**payment, "amount_fen": 66000})
    same_month = await client.post("/contributions", json={**payment, "payment_id": "QD-other"})

    assert first.status_code == 201, first.text
    assert first.json()["personal_part_fen"] == 13000
    assert again.status_code == 200 and again.json() == first.json()
    assert_problem(changed, 409)
    assert_problem(same_month, 409)
    events = await outbox_of(db, item["person_id"])
    assert types(events).count(PAID) == 1
    assert payload(events[-1]).payment_id == payment["payment_id"]
    assert payload(events[-1]).insutype == "310"


async def test_concurrent_requests_for_one_person_serialize(client, db) -> None:
    employer = await new_employer(client)
    id_number = new_id_number()
    item = staff_item(id_number)
    adds = await asyncio.gather(*(add_staff(client, employer, [item]) for _ in range(4)))
    assert sorted(r.status_code for r in adds) == [200, 409, 409, 409], [r.text for r in adds]
    staff = next(r for r in adds if r.status_code == 200).json()["items"][0]
    payment = {
        "payment_id": f"QD-{secrets.token_hex(4)}",
        "enrollment_id": staff["enrollment_id"],
        "period": "202502",
        "amount_fen": 65000,
        "employer_part_fen": 52000,
    }

    paid = await asyncio.gather(*(client.post("/contributions", json=payment) for _ in range(5)))

    assert sorted(r.status_code for r in paid) == [200, 200, 200, 200, 201]
    assert types(await outbox_of(db, staff["person_id"])) == [
        REGISTERED,
        PERSON_CONTACT,
        STAFF_ADDED,
        ENROLLED,
        PAID,
    ]


async def test_contribution_rules(client) -> None:
    person = await register(client)
    enrolled = await client.post(
        f"/persons/{person['person_id']}/enrollments",
        json={"insutype": "390", "pooling_region": "370200", "start_date": "2025-03-15"},
    )
    enrollment_id = enrolled.json()["enrollment_id"]
    payment = {
        "payment_id": "QD-rules-1",
        "enrollment_id": enrollment_id,
        "period": "202503",
        "amount_fen": 38000,
    }

    cases = {
        "period": {**payment, "period": "202502"},
        "employer_part_fen": {**payment, "employer_part_fen": 100},
        "personal_part_fen": {**payment, "personal_part_fen": 1},
        "enrollment_id": {**payment, "enrollment_id": "nope"},
        "amount_fen": {**payment, "amount_fen": 0},
    }
    for field, body in cases.items():
        assert_problem(await client.post("/contributions", json=body), 422, field)
    assert_problem(
        await client.post("/contributions", json={**payment, "period": "202513"}), 422, "period"
    )
    assert (await client.post("/contributions", json=payment)).status_code == 201


async def test_a_contribution_is_paid_within_the_persons_life_so_far(client, db) -> None:
    """Not before the birth date (an age below 0 has no band in the accounts' allocation rule)
    and not in the future: 422 naming paid_at, nothing recorded."""
    person = await register(client, id_number=new_id_number(birth=date(2025, 3, 10)))
    enrolled = await client.post(
        f"/persons/{person['person_id']}/enrollments",
        json={"insutype": "390", "pooling_region": "370200", "start_date": "2025-03-10"},
    )
    assert enrolled.status_code == 201, enrolled.text
    payment = {
        "payment_id": f"QD-{secrets.token_hex(4)}",
        "enrollment_id": enrolled.json()["enrollment_id"],
        "period": "202503",
        "amount_fen": 38000,
    }
    tomorrow = datetime.now(CHINA) + timedelta(days=1)

    for paid_at in ("2025-03-09T23:30:00+08:00", tomorrow.isoformat()):
        refused = await client.post("/contributions", json={**payment, "paid_at": paid_at})
        assert_problem(refused, 422, "paid_at")
    assert PAID not in types(await outbox_of(db, person["person_id"]))
    paid = await client.post(
        "/contributions", json={**payment, "paid_at": "2025-03-10T09:00:00+08:00"}
    )
    assert paid.status_code == 201, paid.text


async def test_certificate(client) -> None:
    employer = await new_employer(client)
    id_number = new_id_number()
    added = await add_staff(client, employer, [staff_item(id_number, start_date="2024-01-01")])
    item = added.json()["items"][0]
    for period in ("202401", "202402", "202403"):
        paid = await client.post(
            "/contributions",
            json={
                "payment_id": f"{item['person_id'][:8]}-{period}",
                "period": period,
                "enrollment_id": item["enrollment_id"],
                "amount_fen": 60000,
                "employer_part_fen": 48000,
            },
        )
        assert paid.status_code == 201, paid.text
    await client.post(
        f"/employers/{employer['employer_id']}/staff/batch-remove",
        headers={"X-API-Key": employer["api_key"]},
        json={"items": [{"id_number": id_number, "end_date": "2024-03-31"}]},
    )
    resident = await client.post(
        f"/persons/{item['person_id']}/enrollments",
        json={"insutype": "390", "pooling_region": "370200", "start_date": "2024-04-01"},
    )
    assert resident.status_code == 201, resident.text

    response = await client.get(f"/persons/{item['person_id']}/certificate")

    assert response.status_code == 200, response.text
    certificate = response.json()
    assert certificate["title"] == "参保证明" and certificate["name"] == "李娜"
    assert certificate["id_number_masked"] == f"3702**********{id_number[-4:]}"
    assert id_number not in response.text
    employee, resident_line = certificate["enrollments"]
    assert employee["insutype"] == "310" and employee["status"] == "terminated"
    assert employee["employer_name"] == "青岛海川电子有限公司"
    assert (employee["end_date"], employee["contribution_months"]) == ("2024-03-31", 3)
    assert resident_line["insutype"] == "390" and resident_line["status"] == "active"
    assert certificate["contribution_months"] == {"310": 3, "390": 0}
    assert certificate["issued_at"].endswith("+08:00")
    assert_problem(await client.get("/persons/p" + "2" * 32 + "/certificate"), 404)


# --- the relay, end to end through the broker --------------------------------------------------


async def test_relay_publishes_one_persons_events_in_order(
    client, db, settings, kafka_bootstrap, topic_prefix
) -> None:
    await ensure_topics(
        kafka_bootstrap,
        topic_prefix,
        specs=[BY_NAME[ENROLLMENT_EVENTS], BY_NAME[ENROLLMENT_CONTACTS]],
    )
    employer = await new_employer(client)
    added = await add_staff(client, employer, [staff_item(start_date="2025-01-01")])
    staff = added.json()["items"][0]
    await client.put(f"/persons/{staff['person_id']}/contact", json={"mobile": new_mobile()})
    await client.post(
        f"/persons/{staff['person_id']}/contact/confirmation",
        json={"code": await requested_code(db, staff["person_id"])},
    )
    await client.post(
        "/contributions",
        json={
            "payment_id": f"relay-{secrets.token_hex(4)}",
            "enrollment_id": staff["enrollment_id"],
            "period": "202501",
            "amount_fen": 65000,
            "employer_part_fen": 52000,
        },
    )
    await client.post(
        f"/employers/{employer['employer_id']}/staff/batch-remove",
        headers={"X-API-Key": employer["api_key"]},
        json={"items": [{"person_id": staff["person_id"]}]},
    )
    expected = [REGISTERED, STAFF_ADDED, ENROLLED, CONTACT, PAID, STAFF_REMOVED, TERMINATED]

    producer = create_producer(settings, "relay-test")
    await producer.start()
    stop = asyncio.Event()
    relay = asyncio.create_task(
        OutboxRelay(
            settings.database_dsn,
            producer,
            service="enrollment",
            topic_prefix=topic_prefix,
            poll_interval=0.2,
        ).run(stop)
    )
    consumer = AIOKafkaConsumer(
        topic_prefix + ENROLLMENT_EVENTS,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[Envelope] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < len(expected):
                batch = await consumer.getmany(timeout_ms=500)
                received += [
                    Envelope.from_record(r.key, r.value, r.headers)
                    for records in batch.values()
                    for r in records
                    if r.key == staff["person_id"].encode()
                ]
    finally:
        await consumer.stop()
        stop.set()
        await relay
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        await admin.delete_topics(
            [topic_prefix + ENROLLMENT_EVENTS, topic_prefix + ENROLLMENT_CONTACTS]
        )
        await admin.close()

    assert types(received) == expected
    assert len({e.id for e in received}) == len(expected)
    assert all(e.source == "/chs/enrollment" for e in received)
