"""An institution the admin registers in enrollment becomes usable by reimbursement, on the real
broker: enrollment's outbox relay publishes InstitutionRegistered to chs.registry.institutions
(keyed by the code), reimbursement's API follows that topic (chs_events.institutions) and settles
at the new institution; before, its code was an unknown institution (422)."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from chs_enrollment.api import create_app as create_enrollment_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.institutions import UnknownInstitution, institution
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.topics import BY_NAME, REGISTRY_INSTITUTIONS
from chs_reimbursement.api import create_app as create_reimbursement_app
from chs_reimbursement.settings import ReimbursementSettings
from tests.support.broker import read_topic, until
from tests.support.people import enrolled_resident
from tests.support.service import client_of, running, throwaway_database
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "registry-admin-token"


@asynccontextmanager
async def app_on(
    service: str, app_of, settings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(app_of(settings)) as app, client_of(app, service) as client:
        yield app, client


@asynccontextmanager
async def relaying(settings: EnrollmentSettings) -> AsyncIterator[None]:
    """Enrollment's outbox relay, publishing while the block runs."""
    producer = create_producer(settings, "relay")
    await producer.start()
    stop = asyncio.Event()
    relay = OutboxRelay(
        settings.database_dsn,
        producer,
        service="enrollment",
        topic_prefix=settings.topic_prefix,
        poll_interval=0.2,
    )
    task = asyncio.create_task(relay.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await producer.stop()


def bill(person_id: str, institution_code: str) -> dict:
    return {
        "person_id": person_id,
        "institution_code": institution_code,
        "visit_type": "inpatient",
        "admission_date": "2026-11-10",
        "discharge_date": "2026-11-18",
        "diagnoses": ["C34.9"],
        "eligible_fen": 8_000_000,
        "ineligible_fen": 500_000,
        "invoice_no": f"37020026{secrets.token_hex(5)}",
    }


def named(code: str, name: str):
    """Whether this process's registry has the institution under this name yet."""

    async def known() -> bool:
        try:
            return institution(code).name == name
        except UnknownInstitution:
            return False

    return known


def institution_of(settlement: dict) -> tuple:
    bill = settlement["bill"]
    return (
        bill["institution_code"],
        bill["institution_name"],
        bill["institution_level"],
        bill["institution_region"],
    )


async def test_a_registered_institution_becomes_usable_by_reimbursement(
    database_url, kafka_bootstrap, topic_prefix
) -> None:
    await ensure_topics(kafka_bootstrap, topic_prefix, [BY_NAME[REGISTRY_INSTITUTIONS]])
    code = f"H3702{secrets.randbelow(10**7):07d}"
    registration = {"code": code, "name": "青岛市市南区新院", "level": 3, "region": "370202"}
    person = "p" + secrets.token_hex(16)
    his = bearer("reimbursement", kind="institution", institution_code=code)
    common = {
        "database_url": database_url,
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topic_prefix,
    }
    async with (
        throwaway_database(database_url, "enrollment") as enrollment_db,
        throwaway_database(database_url, "reimbursement") as reimbursement_db,
    ):
        enrollment_settings = EnrollmentSettings(
            database_name=enrollment_db, admin_token=ADMIN_TOKEN, **common
        )
        reimbursement_settings = ReimbursementSettings(database_name=reimbursement_db, **common)
        async with (
            app_on("enrollment", create_enrollment_app, enrollment_settings) as (_, enrollment),
            app_on("reimbursement", create_reimbursement_app, reimbursement_settings) as (
                reimbursement_app,
                reimbursement,
            ),
        ):
            [follower] = reimbursement_app.state.followers
            await follower.wait_caught_up(timeout=30)
            ready = await reimbursement.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["institutions"] == "ok"
            await enrolled_resident(reimbursement_app, person)

            before = await reimbursement.post("/settlements", json=bill(person, code), headers=his)
            assert before.status_code == 422, before.text
            assert [e["field"] for e in before.json()["errors"]] == ["institution_code"]
            assert "not a designated institution" in before.text

            registered = await enrollment.post(
                "/institutions", json=registration, headers={"X-Admin-Token": ADMIN_TOKEN}
            )
            assert registered.status_code == 201, registered.text

            async with relaying(enrollment_settings):
                await until(named(code, "青岛市市南区新院"), timeout=60)
                after = await reimbursement.post(
                    "/settlements", json=bill(person, code), headers=his
                )
                assert after.status_code == 201, after.text
                assert institution_of(after.json()) == (code, "青岛市市南区新院", 3, "370202")

                # a change of name reaches reimbursement the same way
                changed = await enrollment.put(
                    f"/institutions/{code}",
                    json={"name": "青岛市市南区中心医院", "level": 3},
                    headers={"X-Admin-Token": ADMIN_TOKEN},
                )
                assert changed.status_code == 200, changed.text
                await until(named(code, "青岛市市南区中心医院"), timeout=60)
                renamed = await reimbursement.post(
                    "/settlements", json=bill(person, code), headers=his
                )
                assert renamed.status_code == 201, renamed.text
                assert institution_of(renamed.json())[1] == "青岛市市南区中心医院"

    records = await read_topic(kafka_bootstrap, topic_prefix + REGISTRY_INSTITUTIONS, 2)
    assert [record.key for record in records] == [code.encode()] * 2
    assert [
        Envelope.from_record(record.key, record.value, record.headers).type for record in records
    ] == ["chs.registry.institution.registered.v1", "chs.registry.institution.changed.v1"]


async def test_readiness_waits_for_the_institutions_topic(
    database_url, kafka_bootstrap, topic_prefix
) -> None:
    """Without the topic (not created under this prefix) the follower cannot catch up."""
    async with throwaway_database(database_url, "reimbursement") as name:
        settings = ReimbursementSettings(
            database_url=database_url,
            database_name=name,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
        )
        async with app_on("reimbursement", create_reimbursement_app, settings) as (_, client):
            response = await client.get("/readyz")
            assert response.status_code == 503, response.text
            assert response.json()["checks"]["institutions"] == "failing"
            assert response.json()["checks"]["database"] == "ok"
