"""The push processor as a real process against the real broker and database: events in → each
person's profile in the projection (as the fold makes it) → a preview counts the right people
within the operator's region (Qingdao's operator sees only 3702…, the province's all of
Shandong); the same events again change nothing; a bad segment is a 422 problem, another
region a 403."""

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.clock import today
from chs_events.db import connect
from chs_events.envelope import Envelope
from chs_events.topics import BY_NAME, NOTICE_REQUESTS, dead_letter_spec
from chs_push import repository, rules
from chs_push.api import create_app
from chs_push.app import SOURCES, STATE_TOPICS
from chs_push.domain import masked
from chs_push.rules.segments import Segment, compiled
from chs_push.settings import PushSettings
from tests.support import broker
from tests.support.process import Spawned
from tests.support.service import client_of, running, throwaway_database
from tests.support.tokens import bearer
from tests.unit.push import events as ev

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join(
    [str(REPO / p) for p in ("libs/chs_events", "services/push")] + sys.path
)
QINGDAO_OPERATOR = {"kind": "agency", "region": "370200", "scope": "push:publish"}
SHANDONG_OPERATOR = {"kind": "agency", "region": "370000", "scope": "push:publish"}
TODAY = today()


class Processor(Spawned):
    def wait_ready(self, timeout: float = 90.0) -> None:
        self.wait_for(
            lambda entry: entry.get("message") == "state recovered", "state recovered", timeout
        )


@pytest.fixture(scope="module")
async def settings(database_url: str, kafka_bootstrap: str) -> AsyncIterator[PushSettings]:
    async with throwaway_database(database_url, "push") as name:
        yield PushSettings(
            database_url=database_url, database_name=name, kafka_bootstrap=kafka_bootstrap
        )


@pytest.fixture
async def prefix(kafka_bootstrap: str, topic_prefix: str) -> str:
    specs = [spec for name in SOURCES for spec in (BY_NAME[name], dead_letter_spec(BY_NAME[name]))]
    # the notices its triggers ask for (the diabetics' certifications) go to chs.notices.requests
    await ensure_topics(
        kafka_bootstrap, topic_prefix, [*specs, *STATE_TOPICS, BY_NAME[NOTICE_REQUESTS]]
    )
    return topic_prefix


@pytest.fixture
def processor(kafka_bootstrap, prefix, settings, tmp_path) -> Iterator[Processor]:
    started = Processor.start(
        ["chs_push", "processor"],
        tmp_path / "processor.log",
        pythonpath=PYTHONPATH,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=prefix,
        data_dir=tmp_path / "data",
        CHS_STORE="memory",
        CHS_DATABASE_URL=settings.database_url,
        CHS_DATABASE_NAME=settings.database_name,
    )
    yield started
    started.stop(timeout=15)


@pytest.fixture
async def client(settings: PushSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as app, client_of(app, "push") as client:
        yield client


@pytest.fixture
async def db(settings: PushSettings) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(settings.database_dsn)
    yield conn
    await conn.close()


def born(age: int) -> date:
    return date(TODAY.year - age, 1, 1)  # that age all year


def people() -> dict[str, list]:
    """Each person's events: diabetics of Qingdao and Jinan, one dead, one opted out, one moved
    from Qingdao to Jinan, one not enrolled, an elderly resident of Qingdao."""
    cast: dict[str, list] = {}

    def person(
        name: str, region: str, more: Callable, *, insutype: str = "310", age: int = 40
    ) -> str:
        p = ev.new_person()
        job = ev.enrolled(p, insutype, region)
        cast[name] = [ev.registered(p, born(age), region=region), job, *more(p, job)]
        return p

    diabetic = lambda p, job: [ev.certified(p, "t2dm")]  # noqa: E731
    for n in range(3):
        person(f"qingdao-diabetic-{n}", ev.QINGDAO, diabetic)
    for n in range(2):
        person(f"jinan-diabetic-{n}", ev.JINAN, diabetic)
    person("qingdao-dead", ev.QINGDAO, lambda p, job: [ev.certified(p, "t2dm"), ev.death(p, TODAY)])
    person(
        "qingdao-opted-out",
        ev.QINGDAO,
        lambda p, job: [
            ev.certified(p, "t2dm"),
            ev.preference(p, True, datetime(2026, 1, 1, tzinfo=UTC)),
        ],
    )
    person(
        "moved-to-jinan",
        ev.QINGDAO,
        lambda p, job: [ev.certified(p, "t2dm"), ev.moved(p, job.enrollment_id, ev.JINAN)],
    )
    person(
        "qingdao-left",
        ev.QINGDAO,
        lambda p, job: [ev.certified(p, "t2dm"), ev.terminated(p, job.enrollment_id)],
    )
    person("qingdao-elderly", ev.QINGDAO, lambda p, job: [], insutype="390", age=70)
    return cast


async def publish(bootstrap: str, prefix: str, events: list) -> None:
    envelopes = [ev.envelope(e) for e in events]
    await broker.publish_each(bootstrap, [(prefix + e.event.topic, e) for e in envelopes])


async def projected(db: asyncpg.Connection, persons: dict[str, str], events: int) -> None:
    """Until every person's row is there, with a revision for each of their events."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        total = await db.fetchval(
            "select coalesce(sum(revision), 0) from profiles where person_id = any($1)",
            list(persons.values()),
        )
        if total == events:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"the projection did not reach {events} revisions")


async def preview(client: httpx.AsyncClient, caller: dict, **rule) -> httpx.Response:
    return await client.post("/segments/preview", json=rule, headers=bearer("push", **caller))


async def test_events_in_the_profiles_projected_and_previewed_in_the_operator_region(
    kafka_bootstrap, prefix, processor, client, db
):
    processor.wait_ready()
    cast = people()
    persons = {name: events[0].person_id for name, events in cast.items()}
    every = [e for events in cast.values() for e in events]
    await publish(kafka_bootstrap, prefix, every)
    await projected(db, persons, len(every))

    # the projection's profile is the fold of the person's events
    for events in cast.values():
        expected = None
        for event in events:
            expected = rules.apply(expected, Envelope(event, source="/chs/test")) or expected
        assert expected is not None
        assert await repository.profile(db, expected.person_id) == expected

    answer = await preview(client, QINGDAO_OPERATOR, conditions=["t2dm"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    qingdao = sorted(persons[f"qingdao-diabetic-{n}"] for n in range(3))
    assert body["count"] == 3  # not the dead, the opted out, the moved, the one who left
    assert body["sample"] == [masked(p) for p in qingdao]
    assert body["region_prefix"] == "3702"
    assert body["as_of"] == TODAY.isoformat()
    assert all("*" in s for s in body["sample"])

    # the province's operator sees Jinan's too (the moved one among them); a segment of
    # Shandong is narrowed to Qingdao for Qingdao's operator
    province = await preview(client, SHANDONG_OPERATOR, conditions=["endocrine"])
    assert province.json()["count"] == 6
    narrowed = await preview(client, QINGDAO_OPERATOR, conditions=["t2dm"], region_prefix="37")
    assert (narrowed.json()["count"], narrowed.json()["region_prefix"]) == (3, "3702")
    assert (await preview(client, SHANDONG_OPERATOR, region_prefix="3701")).json()["count"] == 3
    elderly = await preview(client, QINGDAO_OPERATOR, elderly=True, insured_types=["392"])
    assert elderly.json()["count"] == 1
    left = await preview(client, QINGDAO_OPERATOR, conditions=["t2dm"], enrolled_only=False)
    assert left.json()["count"] == 4

    # the SQL preview counts what the matcher matches
    rows = await db.fetch(
        "select profile::text as profile from profiles where person_id = any($1)",
        list(persons.values()),
    )
    stored = [p for row in rows if (p := rules.load(row["profile"].encode())) is not None]
    for rule in (
        {"conditions": ["t2dm"], "region_prefix": "37"},
        {"age_min": 60},
        {"insured_types": ["310"], "age_max": 45, "region_prefix": "3701"},
        {"enrolled_only": False},
    ):
        match = compiled(Segment(**rule), TODAY)
        answer = await preview(client, SHANDONG_OPERATOR, **rule)
        assert answer.json()["count"] == sum(map(match, stored)), rule

    # the same events again change nothing (a new person's, published after them, is applied)
    revisions = dict(await db.fetch("select person_id, revision from profiles"))
    later = ev.new_person()
    await publish(kafka_bootstrap, prefix, [*every, ev.registered(later)])
    await projected(db, {"later": later}, 1)
    now = dict(
        await db.fetch("select person_id, revision from profiles where person_id <> $1", later)
    )
    assert now == revisions


async def test_a_bad_segment_is_a_problem_and_another_region_refused(client):
    bad = await preview(client, QINGDAO_OPERATOR, conditions=["diabetes"], age_min=-1)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"conditions", "age_min"}
    other = await preview(client, QINGDAO_OPERATOR, region_prefix="3701")
    assert other.status_code == 403, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    scopeless = await preview(client, {**QINGDAO_OPERATOR, "scope": "fraud:review"})
    assert scopeless.status_code == 403
    person = await preview(client, {"kind": "person", "person_id": ev.new_person()})
    assert person.status_code == 403
