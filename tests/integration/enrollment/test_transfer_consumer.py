"""Enrollment's consumer of completed transfers (``enrollment-transfers``) against a real
PostgreSQL server and Kafka broker: a completion moves the enrollment's pooling region once,
however often it is delivered, and records PoolingRegionChanged in the outbox."""

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from stdnum.cn import ric

from chs_enrollment.api import create_app
from chs_enrollment.consumers import TRANSFERS_CONSUMER, TRANSFERS_HANDLERS, TRANSFERS_TOPICS
from chs_enrollment.settings import EnrollmentSettings
from chs_events.admin import ensure_topics
from chs_events.consumer import Subscription
from chs_events.envelope import Envelope
from chs_events.events.transfer import TransferCompleted
from chs_events.retry import Backoff
from chs_events.topics import BY_NAME, TRANSFER_EVENTS, dead_letter_spec, dlq_of
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.service import client_of, consuming, outbox_of, running, throwaway_database
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "integration-admin-token"
QINGDAO, JINAN = "370200", "370100"
CHANGED = "chs.enrollment.pooling-region.changed.v1"
_serial = itertools.count(1)
TEST_BACKOFF = Backoff(max_attempts=2, base_delay=0.05)


def new_id_number() -> str:
    body = f"370202{date(1988, 6, 1):%Y%m%d}{next(_serial) * 2 % 1000 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(scope="module")
async def settings(database_url: str, kafka_bootstrap: str) -> AsyncIterator[EnrollmentSettings]:
    prefix = f"t{secrets.token_hex(4)}."
    spec = BY_NAME[TRANSFER_EVENTS]
    await ensure_topics(kafka_bootstrap, prefix, [spec, dead_letter_spec(spec)])
    async with throwaway_database(database_url, "enrollment_transfers") as name:
        yield EnrollmentSettings(
            database_url=database_url,
            database_name=name,
            kafka_bootstrap=kafka_bootstrap,
            admin_token=ADMIN_TOKEN,
            topic_prefix=prefix,
        )


@pytest.fixture(scope="module")
async def app(settings: EnrollmentSettings) -> AsyncIterator[object]:
    async with running(create_app(settings)) as app:
        yield app


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, "enrollment") as client:
        yield client


@pytest.fixture
async def consumer(app, settings):
    """The consumer as `python -m chs_enrollment consume` runs it, on the API's pool."""
    subscription = Subscription(TRANSFERS_CONSUMER, TRANSFERS_TOPICS, TRANSFERS_HANDLERS)
    async with consuming([subscription], app.state.pool, settings, backoff=TEST_BACKOFF):
        yield


async def employee_in_qingdao(client: httpx.AsyncClient) -> dict:
    employer = await client.post(
        "/employers",
        json={"name": "青岛海川电子有限公司", "region_code": QINGDAO},
        headers={"X-Admin-Token": ADMIN_TOKEN},
    )
    assert employer.status_code == 201, employer.text
    employer = employer.json()
    added = await client.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {
                    "id_number": new_id_number(),
                    "name": "李娜",
                    "mobile": f"1385321{next(_serial):04d}",
                    "region_code": "370212",
                    "contribution_base_fen": 650000,
                    "start_date": "2025-01-01",
                }
            ]
        },
    )
    assert added.status_code == 200, added.text
    return added.json()["items"][0]


def completion(item: dict, transfer_id: str, **overrides) -> Envelope:
    fields = {
        "person_id": item["person_id"],
        "transfer_id": transfer_id,
        "enrollment_id": item["enrollment_id"],
        "from_region": QINGDAO,
        "to_region": JINAN,
        "cross_province": False,
        "contribution_months": 3,
        "completed_on": date(2026, 11, 22),
    }
    return Envelope(
        TransferCompleted(**{**fields, **overrides}),
        source="/chs/transfer",
        correlation_id=f"req-{transfer_id}",
    )


async def publish(settings: EnrollmentSettings, *envelopes: Envelope) -> None:
    await broker.publish(settings, settings.topic(TRANSFER_EVENTS), *envelopes)


async def region_of(client: httpx.AsyncClient, item: dict) -> str:
    # Read by the person themself: the region moves, and with it the agencies that serve them.
    own = bearer("enrollment", kind="person", person_id=item["person_id"])
    person = (await client.get(f"/persons/{item['person_id']}", headers=own)).json()
    [enrollment] = [e for e in person["enrollments"] if e["enrollment_id"] == item["enrollment_id"]]
    return enrollment["pooling_region"]


async def outbox_changes(app, person_id: str) -> list[Envelope]:
    async with app.state.pool.acquire() as conn:
        envelopes = await outbox_of(conn, person_id)
    return [e for e in envelopes if e.type == CHANGED]


async def test_completion_delivered_twice_moves_the_region_exactly_once(
    app, client, settings, consumer
):
    item = await employee_in_qingdao(client)
    assert await region_of(client, item) == QINGDAO
    first = completion(item, "t-once")
    # The same event twice (redelivery), and the same completion under a new event id.
    again = completion(item, "t-once")
    await publish(settings, first, first, Envelope(again.event, source="/chs/transfer"))

    async def moved():
        return await region_of(client, item) == JINAN

    await until(moved, timeout=30)
    await asyncio.sleep(1.5)  # the later deliveries have been read by now
    [changed] = await outbox_changes(app, item["person_id"])
    assert changed.event.model_dump() == {
        "person_id": item["person_id"],
        "enrollment_id": item["enrollment_id"],
        "insutype": "310",
        "from_region": QINGDAO,
        "to_region": JINAN,
        "changed_on": date(2026, 11, 22),
        "transfer_id": "t-once",
    }
    assert changed.causation_id == first.id
    assert changed.correlation_id == "req-t-once"
    async with app.state.pool.acquire() as conn:
        assert (
            await conn.fetchval(
                "select count(*) from pooling_region_changes where enrollment_id = $1",
                item["enrollment_id"],
            )
            == 1
        )
        assert (
            await conn.fetchval(
                "select count(*) from inbox where consumer = $1 and event_id = $2",
                TRANSFERS_CONSUMER,
                first.id,
            )
            == 1
        )
    assert await region_of(client, item) == JINAN


async def test_a_completion_that_does_not_fit_is_dead_lettered(app, client, settings, consumer):
    item = await employee_in_qingdao(client)
    wrong_from = completion(item, "t-wrong", from_region="320500", to_region=JINAN)
    unknown = completion(item, "t-unknown", enrollment_id="no-such-enrollment")
    await publish(settings, wrong_from, unknown)
    dead = await read_topic(
        settings.kafka_bootstrap, settings.topic(dlq_of(TRANSFER_EVENTS)), expected=2
    )
    reasons = " | ".join(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert len(dead) == 2
    assert "no enrollment no-such-enrollment" in reasons
    assert "not in the transfer's from_region 320500" in reasons
    assert await region_of(client, item) == QINGDAO
    assert await outbox_changes(app, item["person_id"]) == []
