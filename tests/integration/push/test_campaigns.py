"""Campaigns against the real database and broker: drafted, read and refused through the API
(RFC 9457 bodies), published → ``CampaignPublished`` on ``chs.push.campaigns``; the fan-out of
Qingdao's 60+ hypertensive residents over a seeded projection writes exactly one target and one
``NoticeRequested`` per matching person, with the deterministic notice id; a fan-out that
crashed half-way and runs again writes no duplicate; a cancel stops it; the progress counts the
statuses notification announces (opted out and capped counted, not sent)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bench.push import synthetic
from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.notices import (
    NoticeCapped,
    NoticeDelivered,
    NoticeOptedOut,
    NoticeRequested,
    NoticeSent,
)
from chs_events.events.push import CampaignPublished
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.topics import BY_NAME, PUSH_CAMPAIGNS
from chs_events.unit_of_work import UnitOfWork
from chs_push import consumers, handlers, repository
from chs_push.api import create_app
from chs_push.domain import campaign_notice_id
from chs_push.fanout import FanOut
from chs_push.rules.profile import Profile
from chs_push.rules.segments import Segment, compiled
from chs_push.settings import PushSettings
from tests.support.broker import read_topic
from tests.support.service import outbox_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

QINGDAO = {"kind": "agency", "region": "370200", "scope": "push:publish"}
JINAN = {"kind": "agency", "region": "370100", "scope": "push:publish"}
SHANDONG = {"kind": "agency", "region": "370000", "scope": "push:publish"}
HYPERTENSION = "chronic.hypertension_policy"
QINGDAO_60_HYPERTENSIVE = {"region_prefix": "3702", "elderly": True, "conditions": ["hypertension"]}
PROFILES: list[Profile] = [
    replace(p, conditions=((f"H{n}", "hypertension"),)) if n % 3 == 0 else p
    for n, p in enumerate(synthetic(6000, seed=13))
]

settings, app, client, db = service_fixtures(
    "push", PushSettings, create_app, push_fanout_per_second=1_000_000.0, fanout_page_size=7
)


@pytest.fixture(scope="module", autouse=True)
async def seeded(app) -> None:
    async with app.state.pool.acquire() as conn:
        for start in range(0, len(PROFILES), 1000):
            await repository.upsert_profiles(conn, PROFILES[start : start + 1000])


def headers(caller) -> dict[str, str]:
    return bearer("push", **caller)


async def drafted(client, body=None, caller=QINGDAO) -> dict:
    body = body or {"template_id": HYPERTENSION, "segment": QINGDAO_60_HYPERTENSIVE}
    answer = await client.post(
        "/campaigns", json={"purpose": "高血压政策宣传", **body}, headers=headers(caller)
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == f"/campaigns/{answer.json()['campaign_id']}"
    return answer.json()


async def published(client, body=None) -> dict:
    campaign = await drafted(client, body)
    answer = await client.post(
        f"/campaigns/{campaign['campaign_id']}/publish", headers=headers(QINGDAO)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def fanout(app) -> FanOut:
    return FanOut(app.state.pool, app.state.settings)


async def started(app, campaign_id: str) -> None:
    async with app.state.pool.acquire() as conn:
        await handlers.handle_start(
            UnitOfWork(conn, source="/chs/push"), handlers.StartCampaign(campaign_id)
        )


def expected_of(segment: dict, as_of) -> list[str]:
    predicate = compiled(Segment(**segment), as_of)
    return sorted(p.person_id for p in PROFILES if predicate(p))


async def targets(db: asyncpg.Connection, campaign_id: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "select person_id, notice_id from campaign_targets where campaign_id = $1 "
        "order by person_id",
        campaign_id,
    )


async def notices(db: asyncpg.Connection, campaign_id: str) -> list[NoticeRequested]:
    rows = await db.fetch(
        "select key, headers, payload from outbox where topic = 'chs.notices.requests' "
        "order by position"
    )
    found = []
    for row in rows:
        envelope = Envelope.from_record(
            row["key"].encode(), row["payload"], [(n, v.encode()) for n, v in row["headers"]]
        )
        if envelope.correlation_id == campaign_id:
            assert isinstance(envelope.event, NoticeRequested)
            found.append(envelope.event)
    return found


async def test_a_draft_is_read_listed_and_refused_to_others(client):
    campaign = await drafted(client)
    assert campaign["status"] == "draft" and campaign["kind"] == "push"
    assert campaign["region"] == "370200" and campaign["created_by"]
    one = f"/campaigns/{campaign['campaign_id']}"
    assert (await client.get(one, headers=headers(QINGDAO))).json() == campaign
    assert (await client.get(one, headers=headers(SHANDONG))).status_code == 200
    listed = (await client.get("/campaigns", headers=headers(QINGDAO))).json()
    assert campaign["campaign_id"] in {c["campaign_id"] for c in listed["campaigns"]}
    for url in (one, f"{one}/progress"):
        refused = await client.get(url, headers=headers(JINAN))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["detail"] == "this caller may not do this"
    person = await client.get(one, headers=headers({"kind": "person"}))
    assert person.status_code == 403
    missing = await client.get("/campaigns/cmp-none", headers=headers(QINGDAO))
    assert missing.status_code == 404 and missing.json()["status"] == 404
    wider = await drafted(client, {"template_id": HYPERTENSION, "segment": {}})
    assert wider["segment"]["region_prefix"] == "3702"  # narrowed to the operator's


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template_id": "enrollment.registered"}, "template_id"),
        ({"template_id": HYPERTENSION, "params": {"name": "张三"}}, "params"),
        (
            {
                "template_id": "general.resident_contribution_period",
                "params": {"year": "2027", "deadline": "2026年12月31日"},
                "segment": {"elderly": True},
            },
            "segment",
        ),
    ],
)
async def test_a_bad_campaign_is_a_422_problem_naming_the_field(client, body, field):
    answer = await client.post(
        "/campaigns", json={"purpose": "测试", **body}, headers=headers(QINGDAO)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text


async def test_publish_records_the_event_and_the_relay_puts_it_on_the_topic(
    client, db, settings, topic_prefix
):
    campaign = await published(client)
    assert campaign["status"] == "published"
    [envelope] = await outbox_of(db, campaign["campaign_id"])
    assert isinstance(envelope.event, CampaignPublished)
    assert envelope.event.segment["conditions"] == ["hypertension"]
    again = await client.post(
        f"/campaigns/{campaign['campaign_id']}/publish", headers=headers(QINGDAO)
    )
    assert again.status_code == 409 and again.json()["status_now"] == "published"

    await ensure_topics(settings.kafka_bootstrap, topic_prefix, [BY_NAME[PUSH_CAMPAIGNS]])
    producer = create_producer(settings, "push-test")
    await producer.start()
    try:
        relay = OutboxRelay(
            settings.database_dsn, producer, service="push", topic_prefix=topic_prefix
        )
        await relay.publish_pending(db)
    finally:
        await producer.stop()
    records = await read_topic(settings.kafka_bootstrap, topic_prefix + PUSH_CAMPAIGNS, 1)
    mine = [r for r in records if r.key.decode() == campaign["campaign_id"]]
    assert len(mine) == 1
    event = Envelope.from_record(mine[0].key, mine[0].value, mine[0].headers).event
    assert isinstance(event, CampaignPublished) and event.campaign_id == campaign["campaign_id"]


async def test_the_fan_out_requests_one_notice_per_matching_person(app, client, db):
    campaign = await published(client)
    campaign_id = campaign["campaign_id"]
    # the consumer of CampaignPublished starts it
    [envelope] = await outbox_of(db, campaign_id)
    await consumers.on_campaign_published(
        UnitOfWork.caused_by(db, envelope, source="/chs/push"), envelope
    )
    run = fanout(app)
    while await run.round():
        pass
    shown = (await client.get(f"/campaigns/{campaign_id}", headers=headers(QINGDAO))).json()
    assert shown["status"] == "completed"
    expected = expected_of(QINGDAO_60_HYPERTENSIVE, datetime.fromisoformat(shown["as_of"]).date())
    assert len(expected) > 3 * 7  # several pages
    rows = await targets(db, campaign_id)
    assert [r["person_id"] for r in rows] == expected
    assert all(
        r["notice_id"] == campaign_notice_id(campaign_id, HYPERTENSION, r["person_id"])
        for r in rows
    )
    requested = await notices(db, campaign_id)
    assert sorted(n.person_id for n in requested) == expected
    assert {(n.category, n.template_id, tuple(n.params)) for n in requested} == {
        ("push", HYPERTENSION, ())
    }
    assert {n.notice_id for n in requested} == {r["notice_id"] for r in rows}
    assert shown["targeted"] == len(expected)
    progress = await client.get(f"/campaigns/{campaign_id}/progress", headers=headers(QINGDAO))
    assert progress.json()["targeted"] == progress.json()["queued"] == len(expected)


class Crash(Exception):
    pass


async def test_a_fan_out_that_crashed_half_way_resumes_without_a_duplicate(
    app, client, db, monkeypatch
):
    campaign_id = (await published(client))["campaign_id"]
    await started(app, campaign_id)
    run = fanout(app)
    for _ in range(2):
        await run.round()
    # the third page fails after its targets were inserted, before it committed
    real = handlers.record_all

    async def crashing(conn, envelopes):
        await real(conn, envelopes)
        raise Crash()

    monkeypatch.setattr(handlers, "record_all", crashing)
    with pytest.raises(Crash):
        await run.round()
    monkeypatch.setattr(handlers, "record_all", real)
    assert len(await targets(db, campaign_id)) == 2 * 7
    assert len(await notices(db, campaign_id)) == 2 * 7
    # a page written again (another worker's, a lost cursor) writes nothing new
    await db.execute("update campaigns set cursor = '' where campaign_id = $1", campaign_id)
    while await fanout(app).round():
        pass
    rows = await targets(db, campaign_id)
    as_of = await db.fetchval("select as_of from campaigns where campaign_id = $1", campaign_id)
    expected = expected_of(QINGDAO_60_HYPERTENSIVE, as_of)
    assert [r["person_id"] for r in rows] == expected
    requested = await notices(db, campaign_id)
    assert len(requested) == len(expected)
    assert len({n.notice_id for n in requested}) == len(expected)


async def test_a_cancel_stops_the_fan_out(app, client, db):
    campaign_id = (await published(client))["campaign_id"]
    await started(app, campaign_id)
    assert (await fanout(app).round()).notices == 7
    answer = await client.post(f"/campaigns/{campaign_id}/cancel", headers=headers(QINGDAO))
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert (await fanout(app).round()).notices == 0
    assert len(await targets(db, campaign_id)) == 7
    again = await client.post(f"/campaigns/{campaign_id}/cancel", headers=headers(QINGDAO))
    assert again.status_code == 409


async def test_a_scheduled_campaign_starts_at_its_time(app, client, db):
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"template_id": HYPERTENSION, "segment": QINGDAO_60_HYPERTENSIVE, "send_at": later}
    campaign = await drafted(client, body)
    await client.post(f"/campaigns/{campaign['campaign_id']}/publish", headers=headers(QINGDAO))
    await started(app, campaign["campaign_id"])  # the consumer's start: not yet due
    await fanout(app).round()
    status = await db.fetchval(
        "select status from campaigns where campaign_id = $1", campaign["campaign_id"]
    )
    assert status == "published"
    await db.execute(
        "update campaigns set send_at = now() - interval '1 second' where campaign_id = $1",
        campaign["campaign_id"],
    )
    await fanout(app).start_due()
    status = await db.fetchval(
        "select status from campaigns where campaign_id = $1", campaign["campaign_id"]
    )
    assert status == "running"
    await db.execute(
        "update campaigns set status = 'cancelled' where campaign_id = $1", campaign["campaign_id"]
    )


async def test_the_progress_counts_the_statuses_notification_announces(app, client, db):
    campaign_id = (await published(client))["campaign_id"]
    await started(app, campaign_id)
    while await fanout(app).round():
        pass
    rows = await targets(db, campaign_id)
    at = datetime.now(UTC)

    def status(model, row, **more):
        event = model(
            person_id=row["person_id"],
            notice_id=row["notice_id"],
            message_id=f"m-{row['notice_id']}",
            template_id=HYPERTENSION,
            status={
                NoticeSent: "sent",
                NoticeDelivered: "delivered",
                NoticeOptedOut: "opted_out",
                NoticeCapped: "capped",
            }[model],
            at=at,
            **more,
        )
        return Envelope(event, source="/chs/notification")

    announced = [
        status(NoticeSent, rows[0]),
        status(NoticeSent, rows[1]),
        status(NoticeDelivered, rows[1]),
        status(NoticeSent, rows[1]),  # late: delivered stays
        status(NoticeOptedOut, rows[2]),
        status(NoticeCapped, rows[3]),
        status(NoticeCapped, rows[4]),
    ]
    for envelope in announced:
        async with UnitOfWork.caused_by(db, envelope, source="/chs/push") as uow:
            await consumers.on_notice_status(uow, envelope)
    answer = await client.get(f"/campaigns/{campaign_id}/progress", headers=headers(QINGDAO))
    assert answer.status_code == 200
    assert answer.json() == {
        "campaign_id": campaign_id,
        "status": "completed",
        "targeted": len(rows),
        "queued": len(rows) - 5,
        "sent": 1,
        "delivered": 1,
        "failed": 0,
        "undeliverable": 0,
        "opted_out": 1,
        "capped": 2,
    }
