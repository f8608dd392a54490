"""Enrollment's consumer of verified deaths (``enrollment-deaths`` on ``chs.feeds.deaths``)
against a real PostgreSQL server and Kafka broker: a death ends the person's enrollments as of
the date of death and records the person deceased, once however often it arrives; a correction
moves the date; nothing is paid or enrolled after the death."""

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from stdnum.cn import ric

from chs_enrollment.api import create_app
from chs_enrollment.consumers import DEATHS_CONSUMER, DEATHS_HANDLERS, DEATHS_TOPICS
from chs_enrollment.settings import EnrollmentSettings
from chs_events.admin import ensure_topics
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.contacts import PersonContact
from chs_events.events.enrollment import EnrollmentTerminated, PersonDeceased
from chs_events.events.feeds import DeathCorrected, DeathRecorded
from chs_events.identity import derive_person_id
from chs_events.retry import Backoff
from chs_events.topics import BY_NAME, DEATH_FEED, dead_letter_spec, dlq_of
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.people import hire
from tests.support.service import consuming, outbox_of, service_fixtures
from tests.support.tokens import EnrollmentCallers

pytestmark = pytest.mark.integration

SECRET = "integration-test-secret"
ADMIN_TOKEN = "integration-admin-token"
PREFIX = f"t{secrets.token_hex(4)}."
QINGDAO = "370200"
DIED = date(2026, 3, 10)
DECEASED = PersonDeceased.ce_type
TERMINATED = EnrollmentTerminated.ce_type
PERSON_CONTACT = PersonContact.ce_type
_serial = itertools.count(1)
TEST_BACKOFF = Backoff(max_attempts=2, base_delay=0.05)


def new_id_number() -> str:
    body = f"370202{date(1958, 6, 1):%Y%m%d}{next(_serial) * 2 % 1000 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


settings, app, _, db = service_fixtures(
    "enrollment_deaths",
    EnrollmentSettings,
    create_app,
    admin_token=ADMIN_TOKEN,
    person_id_secret=SECRET,
    topic_prefix=PREFIX,
)


@pytest.fixture(scope="module", autouse=True)
async def death_topics(kafka_bootstrap: str) -> None:
    spec = BY_NAME[DEATH_FEED]
    await ensure_topics(kafka_bootstrap, PREFIX, [spec, dead_letter_spec(spec)])


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with EnrollmentCallers(
        transport=httpx.ASGITransport(app=app), base_url="http://enrollment"
    ) as client:
        yield client


@pytest.fixture
async def consumer(app, settings):
    """The consumer as `python -m chs_enrollment consume` runs it, on the API's pool."""
    subscription = Subscription(DEATHS_CONSUMER, DEATHS_TOPICS, DEATHS_HANDLERS)
    async with consuming([subscription], app.state.pool, settings, backoff=TEST_BACKOFF):
        yield


async def employee_and_resident(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """A person with an employee (310) enrollment and a resident (390) one (both open, from
    2025-01-01): the person id and the two enrollment ids."""
    _, item = await hire(
        client,
        ADMIN_TOKEN,
        "青岛海川电子有限公司",
        id_number=new_id_number(),
        name="李建国",
        mobile=f"1385321{next(_serial):04d}",
    )
    resident = await client.post(
        f"/persons/{item['person_id']}/enrollments",
        json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2025-01-01"},
    )
    assert resident.status_code == 201, resident.text
    return item["person_id"], item["enrollment_id"], resident.json()["enrollment_id"]


def death(person_id: str, date_of_death: date = DIED, record_id: str = "rec-1") -> Envelope:
    return Envelope(
        DeathRecorded(
            person_id=person_id,
            record_id=record_id,
            date_of_death=date_of_death,
            source="civil_affairs",
            region_code="370783",
        ),
        source="/chs/feeds",
        correlation_id=f"batch-{record_id}",
    )


def correction(person_id: str, date_of_death: date, previous: date = DIED) -> Envelope:
    return Envelope(
        DeathCorrected(
            person_id=person_id,
            record_id="rec-2",
            previous_record_id="rec-1",
            previous_date_of_death=previous,
            date_of_death=date_of_death,
            source="health",
            region_code="370783",
        ),
        source="/chs/feeds",
    )


async def publish(settings: EnrollmentSettings, *envelopes: Envelope) -> None:
    await broker.publish(settings, settings.topic(DEATH_FEED), *envelopes)


async def ends(client: httpx.AsyncClient, person_id: str) -> dict[str, tuple[str | None, str]]:
    """The person's enrollments: id → (end date, status)."""
    person = await client.get(f"/persons/{person_id}")
    assert person.status_code == 200, person.text
    return {
        e["enrollment_id"]: (e.get("end_date"), e["status"]) for e in person.json()["enrollments"]
    }


def payload(envelope: Envelope) -> Any:
    """The envelope's event, its fields read by name (``outbox_of`` validated its type)."""
    return envelope.event


async def death_events(app, person_id: str) -> list[Envelope]:
    async with app.state.pool.acquire() as conn:
        envelopes = await outbox_of(conn, person_id)
    return [e for e in envelopes if e.type in (DECEASED, TERMINATED, PERSON_CONTACT)][1:]


async def test_a_death_ends_the_enrollments_and_records_the_person_deceased_once(
    app, client, settings, consumer
):
    person_id, employee, resident = await employee_and_resident(client)
    first = death(person_id)
    # redelivered, and the same death again under another event id
    await publish(settings, first, first, Envelope(first.event, source="/chs/feeds"))

    async def ended():
        found = await ends(client, person_id)
        return all(end == DIED.isoformat() for end, _ in found.values())

    await until(ended, timeout=30)
    await asyncio.sleep(1.5)  # the later deliveries have been read by now
    events = await death_events(app, person_id)
    assert [e.type for e in events] == [DECEASED, TERMINATED, TERMINATED, PERSON_CONTACT]
    assert all(e.causation_id == first.id for e in events)
    assert all(e.correlation_id == "batch-rec-1" for e in events)
    deceased, *terminations, contact = map(payload, events)
    assert deceased == PersonDeceased(person_id=person_id, date_of_death=DIED, record_id="rec-1")
    assert {(t.enrollment_id, t.insutype, t.end_date, t.reason) for t in terminations} == {
        (employee, "310", DIED, "death"),
        (resident, "390", DIED, "death"),
    }
    assert isinstance(contact, PersonContact) and contact.deceased_on == DIED
    async with app.state.pool.acquire() as conn:
        deceased_on = "select deceased_on from persons where person_id = $1"
        assert await conn.fetchval(deceased_on, person_id) == DIED
        assert (
            await conn.fetchval(
                "select count(*) from inbox where consumer = $1 and event_id = $2",
                DEATHS_CONSUMER,
                first.id,
            )
            == 1
        )


async def test_nothing_is_paid_or_enrolled_after_the_death(app, client, settings, consumer):
    person_id, employee, _ = await employee_and_resident(client)
    await publish(settings, death(person_id))

    async def ended():
        return (await ends(client, person_id))[employee][0] == DIED.isoformat()

    await until(ended, timeout=30)

    def payment(period: str) -> dict:
        return {
            "payment_id": f"QD-{secrets.token_hex(4)}",
            "enrollment_id": employee,
            "period": period,
            "amount_fen": 65000,
            "employer_part_fen": 52000,
        }

    after = await client.post("/contributions", json=payment("202604"))
    assert after.status_code == 422, after.text
    reason = "202604 is after the month of the person's death (2026-03-10)"
    assert after.json()["errors"] == [{"field": "period", "reason": reason}]
    month_of_death = await client.post("/contributions", json=payment("202603"))
    assert month_of_death.status_code == 201, month_of_death.text
    enroll = await client.post(
        f"/persons/{person_id}/enrollments",
        json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2026-04-01"},
    )
    assert enroll.status_code == 409, enroll.text
    assert "died on 2026-03-10" in enroll.json()["detail"]


async def test_a_correction_moves_the_date_and_the_ends(app, client, settings, consumer):
    person_id, _, _ = await employee_and_resident(client)
    earlier = date(2026, 2, 20)
    fixed = correction(person_id, earlier)
    await publish(settings, death(person_id), fixed)

    async def moved():
        found = await ends(client, person_id)
        return all(end == earlier.isoformat() for end, _ in found.values())

    await until(moved, timeout=30)
    events = await death_events(app, person_id)
    assert [e.type for e in events] == [DECEASED, TERMINATED, TERMINATED, PERSON_CONTACT] * 2
    corrected = events[4].event
    assert corrected == PersonDeceased(
        person_id=person_id, date_of_death=earlier, previous_date_of_death=DIED, record_id="rec-2"
    )
    assert {payload(e).end_date for e in events[5:7]} == {earlier}
    assert {e.causation_id for e in events[4:]} == {fixed.id}
    assert payload(events[7]).deceased_on == earlier


async def test_a_death_before_registration_is_kept_and_refuses_the_enrollment(
    app, client, settings, consumer
):
    id_number = new_id_number()
    person_id = derive_person_id(id_number, SECRET.encode())
    await publish(settings, death(person_id))

    async def kept():
        async with app.state.pool.acquire() as conn:
            return await conn.fetchval("select 1 from deaths where person_id = $1", person_id)

    await until(kept, timeout=30)
    registered = await client.post(
        "/persons",
        json={
            "id_number": id_number,
            "name": "王秀英",
            "mobile": f"1385321{next(_serial):04d}",
            "region_code": "370202",
        },
    )
    assert registered.status_code == 201, registered.text
    enroll = await client.post(
        f"/persons/{person_id}/enrollments",
        json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2026-01-01"},
    )
    assert enroll.status_code == 409, enroll.text
    async with app.state.pool.acquire() as conn:
        envelopes = await outbox_of(conn, person_id)
    assert [e.type for e in envelopes][1:] == [DECEASED, PERSON_CONTACT]
    assert payload(envelopes[2]).deceased_on == DIED


async def test_a_first_record_of_another_date_is_dead_lettered(app, client, settings, consumer):
    person_id, employee, _ = await employee_and_resident(client)
    await publish(settings, death(person_id), death(person_id, date(2026, 1, 5), "rec-other"))
    dead = await read_topic(settings.kafka_bootstrap, settings.topic(dlq_of(DEATH_FEED)), 1)
    assert len(dead) == 1
    assert "must come as a correction" in dict(dead[0].headers)["dlq_reason"].decode()
    assert (await ends(client, person_id))[employee][0] == DIED.isoformat()
