"""The remote-care service against a real PostgreSQL server (one fresh database for this module)
and a real Kafka broker: the API in-process, the enrollment read model fed by real enrollment
events through the real consumer runner, the expiry job, and the relay."""

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.db import open_service_database
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.read_models import enrollments
from chs_events.read_models.enrollments import Enrollment
from chs_events.runtime import consumers, run_together
from chs_events.scheduled import run_periodically
from chs_events.topics import (
    BY_NAME,
    ENROLLMENT_EVENTS,
    REIMBURSEMENT_EVENTS,
    REMOTE_CARE_EVENTS,
    dead_letter_spec,
)
from chs_remote_care import handlers
from chs_remote_care.api import create_app
from chs_remote_care.consumers import SUBSCRIPTIONS
from chs_remote_care.settings import RemoteCareSettings
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id
from tests.support.service import client_of, outbox_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
JINAN, LIXIA, QINGDAO, SANYA, SHANGHAI = "370100", "370102", "370200", "460200", "310000"
FILED, REVOKED, EXPIRED = (
    "chs.remote-care.filed.v1",
    "chs.remote-care.revoked.v1",
    "chs.remote-care.expired.v1",
)


fixtures = service_fixtures(
    "remote_care", RemoteCareSettings, create_app, topic_prefix=f"rc{secrets.token_hex(4)}."
)
settings, app, db = fixtures.settings, fixtures.app, fixtures.db


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API as province-wide agency staff: they file, read and revoke for the
    persons of every pooling region of these tests (Jinan, Qingdao)."""
    async with client_of(app, "remote_care") as client:
        client.headers.update(bearer("remote-care", kind="agency"))
        yield client


def as_person(person_id: str) -> dict[str, str]:
    return bearer("remote-care", kind="person", person_id=person_id)


def as_hospital() -> dict[str, str]:
    """A hospital checking coverage (a Qingdao one: any institution may ask)."""
    return bearer("remote-care", kind="institution")


async def enrolled(
    db: asyncpg.Connection,
    region: str = JINAN,
    insutype: str = "390",
    start: date = date(2020, 1, 1),
) -> str:
    """A person with an active enrollment in the read model (seeded directly)."""
    person_id = new_person_id()
    await enrollments.insert_enrollment(
        db, Enrollment(str(uuid.uuid4()), person_id, insutype, region, start)
    )
    return person_id


def assert_problem(
    response: httpx.Response, status: int, *, rule: str | None = None, field: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    if rule is not None:
        assert problem["rule"] == rule, problem
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
    return problem


LONG_TERM = {
    "filing_type": "long_term",
    "category": "relocated_retiree",
    "destination_region": SANYA,
    "commitment": True,
}


# --- filing ------------------------------------------------------------------------------------


async def test_long_term_filing_is_approved_at_once_and_published(client, db) -> None:
    person_id = await enrolled(db)
    response = await client.post(
        f"/persons/{person_id}/filings", json=LONG_TERM, headers={"X-Request-Id": "req-rc-1"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    today = handlers.today()
    assert (
        body["status"],
        body["filing_type"],
        body["category_name"],
        body["destination_name"],
        body["home_region"],
        body["valid_from"],
        body["valid_until"],
    ) == ("active", "long_term", "异地安置退休", "三亚市", JINAN, today.isoformat(), None)
    assert response.headers["location"] == f"/filings/{body['filing_id']}"
    [event] = await outbox_of(db, person_id)
    assert (event.type, event.source, event.correlation_id) == (
        FILED,
        "/chs/remote-care",
        "req-rc-1",
    )
    assert isinstance(event.event, RemoteCareFiled)
    assert event.event.filing_id == body["filing_id"]
    assert (
        event.event.destination_region,
        event.event.home_region,
        event.event.insutype,
        event.event.valid_until,
        event.event.back_dated,
    ) == (SANYA, JINAN, "390", None, False)
    assert (await client.get(f"/filings/{body['filing_id']}")).json() == body
    listed = (await client.get(f"/persons/{person_id}/filings")).json()
    assert [f["filing_id"] for f in listed["filings"]] == [body["filing_id"]]


async def test_a_second_long_term_filing_conflicts_naming_the_first(client, db) -> None:
    person_id = await enrolled(db)
    first = (await client.post(f"/persons/{person_id}/filings", json=LONG_TERM)).json()

    second = await client.post(
        f"/persons/{person_id}/filings",
        json={**LONG_TERM, "destination_region": SHANGHAI, "category": "long_term_resident"},
    )

    problem = assert_problem(second, 409, rule="one_active_long_term_filing")
    assert problem["filing_id"] == first["filing_id"]
    assert len(await outbox_of(db, person_id)) == 1


async def test_concurrent_long_term_filings_accept_exactly_one(client, db) -> None:
    person_id = await enrolled(db)
    answers = await asyncio.gather(
        *(client.post(f"/persons/{person_id}/filings", json=LONG_TERM) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert [e.type for e in await outbox_of(db, person_id)] == [FILED]


async def test_refusals_name_the_rule_and_publish_nothing(client, db) -> None:
    nobody = new_person_id()  # no agency serves them: they file themself
    assert_problem(
        await client.post(f"/persons/{nobody}/filings", json=LONG_TERM, headers=as_person(nobody)),
        422,
        rule="active_enrollment_required",
    )
    person_id = await enrolled(db)
    assert_problem(
        await client.post(
            f"/persons/{person_id}/filings", json={**LONG_TERM, "destination_region": LIXIA}
        ),
        422,
        rule="destination_outside_home_city",
        field="destination_region",
    )
    assert_problem(
        await client.post(
            f"/persons/{person_id}/filings",
            json={
                "filing_type": "temporary",
                "category": "referral",
                "destination_region": QINGDAO,
                "commitment": True,
            },
        ),
        422,
        rule="temporary_in_province_needs_no_filing",
    )
    assert_problem(
        await client.post(
            f"/persons/{person_id}/filings", json={**LONG_TERM, "category": "emergency"}
        ),
        422,
        rule="category_matches_filing_type",
        field="category",
    )
    assert await outbox_of(db, person_id) == [] and await outbox_of(db, nobody) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**LONG_TERM, "destination_region": "460299"}, "destination_region"),
        ({**LONG_TERM, "destination_region": "46020"}, "destination_region"),
        ({**LONG_TERM, "commitment": False}, "commitment"),
        ({**LONG_TERM, "category": "holiday"}, "category"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(client, db, body, field) -> None:
    person_id = await enrolled(db)
    problem = assert_problem(
        await client.post(f"/persons/{person_id}/filings", json=body), 422, field=field
    )
    assert problem["type"] == "/problems/invalid-request"


async def test_emergency_back_dated_to_the_admission_date(client, db) -> None:
    person_id = await enrolled(db)
    admitted = handlers.today() - timedelta(days=5)
    response = await client.post(
        f"/persons/{person_id}/filings",
        json={
            "filing_type": "temporary",
            "category": "emergency",
            "destination_region": SHANGHAI,
            "commitment": True,
            "admission_date": admitted.isoformat(),
            "discharge_date": (admitted + timedelta(days=2)).isoformat(),
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["valid_from"], body["admission_date"], body["back_dated"]) == (
        admitted.isoformat(),
        admitted.isoformat(),
        True,
    )
    [event] = await outbox_of(db, person_id)
    assert isinstance(event.event, RemoteCareFiled)
    assert (event.event.admission_date, event.event.back_dated) == (admitted, True)
    assert event.event.valid_until is not None and event.event.valid_until > handlers.today()

    settled = await client.post(
        f"/persons/{person_id}/filings",
        json={
            "filing_type": "temporary",
            "category": "referral",
            "destination_region": "440300",
            "commitment": True,
            "admission_date": admitted.isoformat(),
            "discharge_date": (admitted + timedelta(days=2)).isoformat(),
        },
    )
    assert_problem(
        settled, 422, rule="back_dating_until_discharge_settlement", field="discharge_date"
    )


# --- coverage, revoke, expire --------------------------------------------------------------------


async def test_coverage_answers_and_revocation(client, db) -> None:
    person_id = await enrolled(db)
    filing = (await client.post(f"/persons/{person_id}/filings", json=LONG_TERM)).json()
    today = handlers.today()

    def ask(region: str, **params: str):
        return client.get(
            f"/persons/{person_id}/coverage",
            params={"region": region, **params},
            headers=as_hospital(),
        )

    covered = (await ask(SANYA, date=(today + timedelta(days=400)).isoformat())).json()
    assert (
        covered["covered"],
        covered["basis"],
        covered["filing_id"],
        covered["filing_type"],
        covered["category"],
        covered["home_region"],
        covered["insutype"],
    ) == (True, "filing", filing["filing_id"], "long_term", "relocated_retiree", JINAN, "390")
    assert (await ask(QINGDAO)).json()["basis"] == "in_province"
    assert (await ask(LIXIA)).json()["basis"] == "home_city"
    assert (await ask(SHANGHAI, emergency="true")).json()["basis"] == "emergency"
    assert (await ask(SHANGHAI)).json()["covered"] is False
    assert_problem(await ask("999999"), 422, field="query.region")

    revoked = await client.post(
        f"/filings/{filing['filing_id']}/revoke", json={"reason": "已回济南居住"}
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["revoked_on"]) == (
        "revoked",
        today.isoformat(),
    )
    assert (await ask(SANYA)).json()["covered"] is False
    assert_problem(
        await client.post(f"/filings/{filing['filing_id']}/revoke"),
        409,
        rule="only_an_active_filing_is_revoked",
    )
    assert_problem(await client.post(f"/filings/{uuid.uuid4()}/revoke"), 404)
    assert [e.type for e in await outbox_of(db, person_id)] == [FILED, REVOKED]
    again = await client.post(f"/persons/{person_id}/filings", json=LONG_TERM)
    assert again.status_code == 201, again.text  # the revoked one no longer overlaps


async def test_expiry_is_once_per_filing_with_several_instances(client, settings, db) -> None:
    person_ids = [await enrolled(db) for _ in range(5)]
    for person_id in person_ids:
        for destination in (SHANGHAI, "440300"):
            response = await client.post(
                f"/persons/{person_id}/filings",
                json={
                    "filing_type": "temporary",
                    "category": "self_referred",
                    "destination_region": destination,
                    "commitment": True,
                },
            )
            assert response.status_code == 201, response.text
    long_term = await client.post(f"/persons/{person_ids[0]}/filings", json=LONG_TERM)
    assert long_term.status_code == 201
    later = handlers.today() + timedelta(days=200)

    pool = await open_service_database(
        settings.database_url, settings.database_name, "chs_remote_care"
    )
    try:
        counts = await asyncio.gather(
            *(
                handlers.expire_due(pool, later, source=settings.ce_source, batch_size=2)
                for _ in range(4)
            )
        )
        assert await handlers.expire_due(pool, later, source=settings.ce_source) == 0
    finally:
        await pool.close()

    expired_ids = [
        row["subject"]
        for row in await db.fetch(
            "select (select h->>1 from jsonb_array_elements(headers) h where h->>0 = 'ce_subject') "
            "as subject from outbox where headers::text like $1",
            f"%{EXPIRED}%",
        )
    ]
    assert sum(counts) == len(expired_ids) == len(set(expired_ids)) >= 10  # each one once
    for person_id in person_ids:
        events = await outbox_of(db, person_id)
        expired = [e.event for e in events if isinstance(e.event, RemoteCareExpired)]
        assert len(expired) == 2 and len({e.filing_id for e in expired}) == 2
        statuses = {
            f["filing_type"]: f["status"]
            for f in (await client.get(f"/persons/{person_id}/filings")).json()["filings"]
        }
        assert statuses["temporary"] == "expired"
    assert statuses.get("long_term", "active") == "active"


async def test_the_expire_worker_expires_what_ended_before_today(client, settings, db) -> None:
    person_id = await enrolled(db)
    response = await client.post(
        f"/persons/{person_id}/filings",
        json={
            "filing_type": "temporary",
            "category": "referral",
            "destination_region": SHANGHAI,
            "commitment": True,
        },
    )
    assert response.status_code == 201, response.text
    filing_id = response.json()["filing_id"]
    # its six months ended yesterday
    await db.execute(
        "update filings set valid_until = $2 where filing_id = $1",
        filing_id,
        handlers.today() - timedelta(days=1),
    )

    pool = await open_service_database(
        settings.database_url, settings.database_name, "chs_remote_care"
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_periodically("remote-care-expiry", handlers.expire_job, pool, settings, stop)
    )
    try:

        async def expired() -> bool:
            return (await client.get(f"/filings/{filing_id}")).json()["status"] == "expired"

        await until(expired, timeout=10)
    finally:
        stop.set()
        await worker
        await pool.close()
    events = await outbox_of(db, person_id)
    assert [e.type for e in events] == [FILED, EXPIRED]
    assert events[1].source == settings.ce_source


# --- the read model, fed through the real consumer runner ---------------------------------------


async def test_read_model_follows_real_enrollment_events(client, settings, kafka_bootstrap) -> None:
    # every group of the worker runs: the topics of each (the settlements' too) exist
    specs = [BY_NAME[topic] for s in SUBSCRIPTIONS for topic in s.topics]
    assert BY_NAME[ENROLLMENT_EVENTS] in specs
    await ensure_topics(
        kafka_bootstrap,
        settings.topic_prefix,
        [s for spec in specs for s in (spec, dead_letter_spec(spec))],
    )
    producer = create_producer(settings, "test")
    await producer.start()
    stop = asyncio.Event()
    pool = await open_service_database(
        settings.database_url, settings.database_name, "chs_remote_care"
    )
    consuming = asyncio.create_task(run_together(consumers(SUBSCRIPTIONS, pool, settings), stop))

    async def publish(*events, twice: bool = False) -> None:
        for event in events:
            record = Envelope(event, source="/chs/enrollment").to_record()
            for _ in range(2 if twice else 1):
                await producer.send_and_wait(
                    settings.topic(ENROLLMENT_EVENTS),
                    key=record.key,
                    value=record.value,
                    headers=record.headers,
                )

    async def coverage(person_id: str, region: str) -> dict:
        return (
            await client.get(
                f"/persons/{person_id}/coverage", params={"region": region}, headers=as_hospital()
            )
        ).json()

    try:
        person_id, enrollment_id = new_person_id(), str(uuid.uuid4())
        await publish(
            EnrollmentRegistered(
                person_id=person_id,
                enrollment_id=enrollment_id,
                insutype="390",
                pooling_region=JINAN,
                start_date=date(2020, 1, 1),
            ),
            twice=True,
        )

        async def filed() -> httpx.Response | None:
            response = await client.post(f"/persons/{person_id}/filings", json=LONG_TERM)
            return response if response.status_code == 201 else None

        filing = (await until(filed, timeout=30, interval=0.2)).json()
        assert (filing["home_region"], filing["enrollment_id"]) == (JINAN, enrollment_id)

        # a transfer moved the pooling region to Qingdao: Jinan is no longer home
        await publish(
            PoolingRegionChanged(
                person_id=person_id,
                enrollment_id=enrollment_id,
                insutype="390",
                from_region=JINAN,
                to_region=QINGDAO,
                changed_on=handlers.today(),
                transfer_id="T-1",
            )
        )
        await until(lambda: _basis(coverage(person_id, LIXIA), "in_province"), timeout=30)
        assert (await coverage(person_id, "370212"))["basis"] == "home_city"

        await publish(
            EnrollmentTerminated(
                person_id=person_id,
                enrollment_id=enrollment_id,
                insutype="390",
                end_date=handlers.today() - timedelta(days=1),
                reason="other",
            )
        )
        await until(lambda: _basis(coverage(person_id, SANYA), None), timeout=30)
        refused = await client.post(
            f"/persons/{person_id}/filings", json={**LONG_TERM, "destination_region": SHANGHAI}
        )
        assert_problem(refused, 422, rule="active_enrollment_required")
        async with pool.acquire() as conn:
            assert (
                await conn.fetchval(
                    "select count(*) from enrollment_view where person_id = $1", person_id
                )
                == 1
            )
            assert (
                await conn.fetchval(
                    "select count(*) from inbox where consumer = 'remote-care-enrollments'"
                )
                == 3
            )
    finally:
        stop.set()
        await asyncio.wait_for(consuming, 30)
        await producer.stop()
        await pool.close()


async def _basis(answer, basis: str | None) -> bool:
    found = await answer
    return found["basis"] == basis and found["covered"] is (basis is not None)


# --- back-dating bounded by the settlements the server knows (chs.reimbursement.events) ---------

SETTLEMENTS_CONSUMER = "remote-care-settlements"
SHANGHAI_DISTRICTS = "310100"  # 市辖区: where a Shanghai hospital settles


def settlement(
    person_id: str, settlement_id: str, admitted: date, discharged: date, region: str
) -> SettlementCompleted:
    return SettlementCompleted(
        person_id=person_id,
        settlement_id=settlement_id,
        insutype="390",
        institution_code="H31010000001",
        institution_name="复旦大学附属中山医院",
        institution_level=3,
        institution_region=region,
        visit_type="inpatient",
        admission_date=admitted,
        discharge_date=discharged,
        discharge_diagnoses=["I21.0"],
        total_fen=3_200_000,
        eligible_fen=3_000_000,
        ineligible_fen=200_000,
        pooled_fund_fen=1_800_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        personal_cash_fen=1_400_000,
        invoice_no=f"INV-{settlement_id}",
        settled_at=datetime.now(UTC),
    )


def reversal(person_id: str, settlement_id: str) -> SettlementReversed:
    return SettlementReversed(
        person_id=person_id,
        settlement_id=settlement_id,
        invoice_no=f"INV-{settlement_id}",
        institution_name="复旦大学附属中山医院",
        total_fen=3_200_000,
        pooled_fund_fen=1_800_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        reason_code="settlement_data_error",
        reversed_at=datetime.now(UTC),
    )


@pytest.fixture
async def settlements(settings, kafka_bootstrap) -> AsyncIterator:
    """The worker's ``remote-care-settlements`` group, through the real consumer runner, and a
    function that publishes reimbursement events and returns once the group applied them."""
    spec = BY_NAME[REIMBURSEMENT_EVENTS]
    await ensure_topics(kafka_bootstrap, settings.topic_prefix, [spec, dead_letter_spec(spec)])
    subscription = next((s for s in SUBSCRIPTIONS if s.name == SETTLEMENTS_CONSUMER), None)
    producer = create_producer(settings, "test")
    await producer.start()
    pool = await open_service_database(
        settings.database_url, settings.database_name, "chs_remote_care"
    )
    stop = asyncio.Event()
    runners = [
        ConsumerRunner(
            name=s.name, topics=s.topics, handlers=s.handlers, pool=pool, settings=settings
        )
        for s in ([subscription] if subscription is not None else [])
    ]
    runner = asyncio.create_task(run_together(runners, stop)) if runners else None

    async def publish(*events) -> None:
        assert subscription is not None, f"remote-care has no group {SETTLEMENTS_CONSUMER}"
        assert subscription.topics == [REIMBURSEMENT_EVENTS]
        ids = []
        for event in events:
            envelope = Envelope(event, source="/chs/reimbursement")
            record = envelope.to_record()
            await producer.send_and_wait(
                settings.topic(REIMBURSEMENT_EVENTS),
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
            ids.append(envelope.id)

        async def applied() -> bool:
            async with pool.acquire() as conn:
                count = await conn.fetchval(
                    "select count(*) from inbox where consumer = $1 and event_id = any($2::uuid[])",
                    SETTLEMENTS_CONSUMER,
                    ids,
                )
            return count == len(ids)

        await until(applied, timeout=60, interval=0.2)

    try:
        yield publish
    finally:
        stop.set()
        if runner is not None:
            await asyncio.wait_for(runner, 30)
        await producer.stop()
        await pool.close()


def back_dated(
    admitted: date, *, category: str = "referral", discharge_date: date | None = None
) -> dict:
    """A temporary filing to Shanghai from ``admitted``; ``discharge_date``: the caller's claim."""
    body = {
        "filing_type": "temporary",
        "category": category,
        "destination_region": SHANGHAI,
        "commitment": True,
        "admission_date": admitted.isoformat(),
    }
    if discharge_date is not None:
        body["discharge_date"] = discharge_date.isoformat()
    return body


async def test_back_dating_ends_with_the_settlement_the_server_knows_whatever_the_claim(
    client, db, settlements
) -> None:
    person_id = await enrolled(db)
    today = handlers.today()
    admitted, discharged = today - timedelta(days=10), today - timedelta(days=2)
    # before any settlement of the stay: accepted, back-dated to the admission
    before = await client.post(f"/persons/{person_id}/filings", json=back_dated(admitted))
    assert before.status_code == 201, before.text
    assert before.json()["back_dated"] is True

    # the stay in Shanghai is settled at discharge; the referral that led to it was settled
    # at the home hospital in Jinan on the admission day
    await settlements(
        settlement(person_id, "S-home", admitted - timedelta(days=5), admitted, LIXIA),
        settlement(person_id, "S-1", admitted, discharged, SHANGHAI_DISTRICTS),
    )

    for claimed in (None, today):  # "still in hospital", "discharged today"
        refused = await client.post(
            f"/persons/{person_id}/filings", json=back_dated(admitted, discharge_date=claimed)
        )
        problem = assert_problem(
            refused, 422, rule="back_dating_until_discharge_settlement", field="admission_date"
        )
        assert discharged.isoformat() in problem["detail"]
    # a filing from the day after the settled discharge, and an emergency, are not refused
    after = await client.post(
        f"/persons/{person_id}/filings", json=back_dated(discharged + timedelta(days=1))
    )
    assert after.status_code == 201, after.text
    emergency = await client.post(
        f"/persons/{person_id}/filings", json=back_dated(admitted, category="emergency")
    )
    assert emergency.status_code == 201, emergency.text
    assert [e.type for e in await outbox_of(db, person_id)] == [FILED, FILED, FILED]

    # the settlement is reversed (冲正): the stay is not settled any more
    await settlements(reversal(person_id, "S-1"))
    again = await client.post(f"/persons/{person_id}/filings", json=back_dated(admitted))
    assert again.status_code == 201, again.text
    assert again.json()["valid_from"] == admitted.isoformat()


async def test_a_settlement_read_after_its_reversal_or_twice_settles_the_stay_once(
    client, db, settlements
) -> None:
    reversed_first, twice = await enrolled(db), await enrolled(db)
    today = handlers.today()
    admitted, discharged = today - timedelta(days=8), today - timedelta(days=1)
    # a reversal read before its settlement (the settlement redriven from its dead letters)
    await settlements(
        reversal(reversed_first, "S-late"),
        settlement(reversed_first, "S-late", admitted, discharged, SHANGHAI_DISTRICTS),
    )
    stay = settlement(twice, "S-twice", admitted, discharged, SHANGHAI_DISTRICTS)
    await settlements(stay, stay)  # published again by the reimbursement relay: two event ids

    accepted = await client.post(f"/persons/{reversed_first}/filings", json=back_dated(admitted))
    assert accepted.status_code == 201, accepted.text
    assert_problem(
        await client.post(f"/persons/{twice}/filings", json=back_dated(admitted)),
        422,
        rule="back_dating_until_discharge_settlement",
    )
    await settlements(reversal(twice, "S-twice"))
    allowed = await client.post(f"/persons/{twice}/filings", json=back_dated(admitted))
    assert allowed.status_code == 201, allowed.text


async def test_relay_publishes_the_filings_events(client, settings, db, kafka_bootstrap) -> None:
    specs = [BY_NAME[REMOTE_CARE_EVENTS]]
    await ensure_topics(kafka_bootstrap, settings.topic_prefix, specs)
    person_id = await enrolled(db)
    filing = (await client.post(f"/persons/{person_id}/filings", json=LONG_TERM)).json()
    await client.post(f"/filings/{filing['filing_id']}/revoke")

    producer = create_producer(settings, "relay-test")
    await producer.start()
    stop = asyncio.Event()
    relay = asyncio.create_task(
        OutboxRelay(
            settings.database_dsn,
            producer,
            service="remote-care",
            topic_prefix=settings.topic_prefix,
            poll_interval=0.2,
        ).run(stop)
    )
    try:
        records = await read_topic(kafka_bootstrap, settings.topic(REMOTE_CARE_EVENTS), expected=2)
    finally:
        stop.set()
        await asyncio.wait_for(relay, 30)
        await producer.stop()
    mine = [
        Envelope.from_record(r.key, r.value, r.headers)
        for r in records
        if r.key == person_id.encode()
    ]
    assert [e.type for e in mine] == [FILED, REVOKED]
    assert all(
        dict(r.headers)["ce_subject"] == filing["filing_id"].encode()
        for r in records
        if r.key == person_id.encode()
    )
