"""The push processor's event-triggered rules as a real process against the real broker and
database: a type 2 diabetes certification → one NoticeRequested on chs.notices.requests with the
diabetes policy, the certification redelivered → the same notice id; a settlement with a
discharge diagnosis of hypertension → the recommendation naming it, for a person who has not
applied for it, and none for one who has (the application in the projection first: two topics
have no order between them)."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from chs_events.admin import ensure_topics
from chs_events.db import connect
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.topics import BY_NAME, NOTICE_REQUESTS, dead_letter_spec
from chs_push import repository
from chs_push.app import SOURCES, STATE_TOPICS
from chs_push.settings import PushSettings
from tests.integration.push.test_profiles import PYTHONPATH, Processor
from tests.support import broker
from tests.support.platform import free_port
from tests.support.service import throwaway_database
from tests.unit.push import events as ev
from tests.unit.push import trigger_events as tev

pytestmark = pytest.mark.integration

DIABETES, RECOMMENDATION = "chronic.diabetes_policy", "chronic.recommendation"


@pytest.fixture(scope="module")
async def settings(database_url: str, kafka_bootstrap: str) -> AsyncIterator[PushSettings]:
    async with throwaway_database(database_url, "push") as name:
        yield PushSettings(
            database_url=database_url, database_name=name, kafka_bootstrap=kafka_bootstrap
        )


@pytest.fixture
async def prefix(kafka_bootstrap: str, topic_prefix: str) -> str:
    specs = [spec for name in SOURCES for spec in (BY_NAME[name], dead_letter_spec(BY_NAME[name]))]
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
        CHS_METRICS_PORT=str(free_port()),
        CHS_DATABASE_URL=settings.database_url,
        CHS_DATABASE_NAME=settings.database_name,
    )
    yield started
    started.stop(timeout=15)


@pytest.fixture
async def db(settings: PushSettings) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(settings.database_dsn)
    yield conn
    await conn.close()


async def publish(bootstrap: str, prefix: str, *envelopes: Envelope) -> None:
    await broker.publish_each(bootstrap, [(prefix + e.event.topic, e) for e in envelopes])


def sent(event: Event) -> Envelope:
    return ev.envelope(event)


async def notices(bootstrap: str, prefix: str, expected: int) -> list[Envelope]:
    records = await broker.read_topic(bootstrap, prefix + NOTICE_REQUESTS, expected, timeout=60)
    return [Envelope.from_record(r.key, r.value, r.headers) for r in records]


def requested(envelopes: list[Envelope], person: str) -> list[NoticeRequested]:
    return [
        e.event
        for e in envelopes
        if isinstance(e.event, NoticeRequested) and e.event.person_id == person
    ]


def once(rule_id: str, template_id: str, person: str) -> str:
    return notice_id(f"push-rule:{rule_id}:{person}", template_id, person)


async def test_a_diabetes_certification_asks_for_the_policy_once_and_again_the_same(
    kafka_bootstrap, prefix, processor
):
    processor.wait_ready()
    person = ev.new_person()
    certification = sent(tev.certified(person, "t2dm"))
    await publish(
        kafka_bootstrap,
        prefix,
        sent(ev.registered(person)),
        sent(ev.enrolled(person)),
        certification,
    )
    [first] = await notices(kafka_bootstrap, prefix, 1)
    notice = first.event
    assert isinstance(notice, NoticeRequested)
    assert (notice.person_id, notice.template_id, notice.category) == (person, DIABETES, "push")
    assert notice.params == {}
    assert notice.notice_id == once("diabetes-policy", DIABETES, person)
    assert first.causation_id == certification.id  # caused by the certification

    await publish(kafka_bootstrap, prefix, certification)  # redelivered
    envelopes = await notices(kafka_bootstrap, prefix, 2)
    assert [n.notice_id for n in requested(envelopes, person)] == [notice.notice_id] * 2
    assert {e.id for e in envelopes} == {first.id}  # the same envelope: notification's inbox too


async def test_a_hypertension_discharge_recommends_applying_unless_applied_for(
    kafka_bootstrap, prefix, processor, db
):
    processor.wait_ready()
    inpatient, applicant = ev.new_person(), ev.new_person()
    application = tev.applied(applicant, "hypertension")
    await publish(
        kafka_bootstrap,
        prefix,
        sent(ev.registered(inpatient)),
        sent(ev.registered(applicant)),
        sent(application),
    )
    # the application in the applicant's profile before the settlement is published
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        profile = await repository.profile(db, applicant)
        if profile is not None and profile.applied_codes == {"hypertension"}:
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the application did not reach the projection")

    await publish(
        kafka_bootstrap,
        prefix,
        sent(tev.settlement(inpatient, "I10")),
        sent(tev.settlement(applicant, "I10")),  # applied for: nothing
        sent(tev.settlement(applicant, "E11.9")),  # after it, of the same partition: not applied
    )
    envelopes = await notices(kafka_bootstrap, prefix, 2)
    [recommended] = requested(envelopes, inpatient)
    assert (recommended.template_id, recommended.category) == (RECOMMENDATION, "push")
    assert recommended.params == {"condition_name": "高血压病"}
    assert recommended.notice_id == once("chronic-recommendation", RECOMMENDATION, inpatient)
    [only] = requested(envelopes, applicant)
    assert only.params == {"condition_name": "2型糖尿病"}
    assert len(envelopes) == 2
