"""The feeds service against a real PostgreSQL server (a fresh database for this module) and a
real broker: batches of death records and accident cases, CSV and JSON Lines, streamed in
chunks, with bad lines beside good ones → a per-line report, kept; the good lines published
through the outbox relay and read back from the feed topics, keyed by person_id; the same feed
again, or the same death from another source, publishes nothing new; a later date of death is
a correction; a record alone; the problems of a body that is no batch or too large; and no raw
ID number anywhere in the feeds' database or on the wire."""

import json
import random
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.requests import ClientDisconnect
from stdnum.cn import ric

from chs_events.admin import ensure_topics
from chs_events.clock import today
from chs_events.envelope import Envelope
from chs_events.identity import derive_person_id
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.topics import ACCIDENT_FEED, BY_NAME, DEATH_FEED
from chs_feeds.api import create_app
from chs_feeds.batches import DEATH_RECORDS, Upload
from chs_feeds.model import death_record_id
from chs_feeds.settings import FeedsSettings
from tests.support.broker import read_topic
from tests.support.service import client_of, running, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

RECORDED = "chs.feeds.death.recorded.v1"
CORRECTED = "chs.feeds.death.corrected.v1"
ACCIDENT = "chs.feeds.accident.recorded.v1"
CSV, JSONL = "text/csv", "application/x-ndjson"
WEIFANG, SHOUGUANG, QINGDAO, JINAN = "370700", "370783", "370200", "370100"
CHUNK, MAX_LINES, MAX_BYTES = 4, 40, 16_384

settings, app, client, db = service_fixtures(
    "feeds",
    FeedsSettings,
    create_app,
    batch_chunk_lines=CHUNK,
    batch_max_lines=MAX_LINES,
    batch_max_bytes=MAX_BYTES,
)

# The exchange system of Weifang's civil affairs (Shouguang is a county of Weifang).
CIVIL_AFFAIRS = {"kind": "agency", "region": WEIFANG, "scope": "feeds:upload", "sub": "mz-weifang"}
POLICE = {"kind": "agency", "region": "370000", "scope": "feeds:upload", "sub": "ga-shandong"}


def uploader(**claims: Any) -> dict[str, str]:
    return bearer("feeds", **{**CIVIL_AFFAIRS, **claims})


def new_id_number(region: str = SHOUGUANG) -> str:
    born = date(1935, 1, 1) + timedelta(days=random.randrange(20_000))
    body = f"{region}{born:%Y%m%d}{random.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def person_of(settings: FeedsSettings, id_number: str) -> str:
    return derive_person_id(id_number, settings.person_id_secret.get_secret_value().encode())


def day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).isoformat()


def csv_body(header: str, *rows: str) -> bytes:
    return "\n".join((header, *rows, "")).encode()


DEATH_HEADER = "id_number,date_of_death,source,region_code"
ACCIDENT_HEADER = "id_number,case_id,accident_date,source,liable_party,region_code"


def jsonl_body(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


async def upload(
    client: httpx.AsyncClient,
    feed: str,
    body: bytes | AsyncIterator[bytes],
    content_type: str = CSV,
    caller: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {**(caller or uploader()), "Content-Type": content_type}
    return await client.post(f"/{feed}/batches", content=body, headers=headers)


def masked(id_number: str) -> str:
    return id_number[:4] + "*" * 10 + id_number[-4:]


async def published(
    settings: FeedsSettings, db: asyncpg.Connection, prefix: str
) -> dict[str, list[Envelope]]:
    """Publish the outbox (the relay's own pass) to the topics under ``prefix`` and read each
    feed topic back from its start: its events by key (person_id)."""
    specs = [BY_NAME[DEATH_FEED], BY_NAME[ACCIDENT_FEED]]
    await ensure_topics(settings.kafka_bootstrap, prefix, specs)
    before = {
        row["topic"]: row["n"]
        for row in await db.fetch(
            "select topic, count(*) as n from outbox where published_at is not null "
            "and quarantined_at is null group by topic"
        )
    }
    pending = {
        row["topic"]: row["n"]
        for row in await db.fetch(
            "select topic, count(*) as n from outbox where published_at is null group by topic"
        )
    }
    producer = create_producer(settings, "feeds-test")
    await producer.start()
    try:
        relay = OutboxRelay(settings.database_dsn, producer, service="feeds", topic_prefix=prefix)
        await relay.publish_pending(db)
    finally:
        await producer.stop()
    by_key: dict[str, list[Envelope]] = {}
    for topic in (DEATH_FEED, ACCIDENT_FEED):
        # what this prefix got: this call's rows, and those published by earlier calls with it
        expected = pending.get(topic, 0) + PUBLISHED_UNDER.get((prefix, topic), 0)
        PUBLISHED_UNDER[(prefix, topic)] = expected
        records = await read_topic(settings.kafka_bootstrap, prefix + topic, expected, timeout=15)
        assert len(records) == expected, (topic, len(records), expected, before)
        for record in records:
            envelope = Envelope.from_record(record.key, record.value, record.headers)
            assert record.key.decode() == envelope.event.person_id
            by_key.setdefault(record.key.decode(), []).append(envelope)
    return by_key


PUBLISHED_UNDER: dict[tuple[str, str], int] = {}


def events_of(by_key: dict[str, list[Envelope]], person_id: str) -> list[tuple[str, Any]]:
    return [(e.type, e.event) for e in by_key.get(person_id, [])]


async def test_a_csv_batch_with_bad_lines_reports_each_line_and_publishes_only_the_good_ones(
    client, settings, db, topic_prefix
) -> None:
    good = [new_id_number() for _ in range(5)]
    bad_check = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")
    jinan = new_id_number(JINAN)
    body = csv_body(
        DEATH_HEADER,
        f"{good[0]},{day(3)},civil_affairs,{SHOUGUANG}",  # 2
        f"{bad_check},{day(3)},civil_affairs,{SHOUGUANG}",  # 3: check digit
        f"{good[1]},{day(-1)},civil_affairs,{SHOUGUANG}",  # 4: tomorrow
        "",  # 5: blank, no record
        f'{good[1]},{day(2)},"police",{SHOUGUANG}',  # 6
        f"{good[2]},{day(2)},hospital,{SHOUGUANG}",  # 7: unknown source
        f"{good[2]},{day(2)},health,379999",  # 8: unknown region
        f"{good[3]},{day(1)},health",  # 9: a field short
        f"{jinan},{day(1)},police,{JINAN}",  # 10: not a region the caller serves
        f"{good[4]},1899-12-31,police,{SHOUGUANG}",  # 11: before 1900
        f"{good[3]},{day(1)},health,{SHOUGUANG}",  # 12
        f"{good[0]},{day(3)},police,{SHOUGUANG}",  # 13: line 2 again, from the police
    )
    answer = await upload(client, "deaths", body)
    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert answer.headers["Location"] == f"/batches/{batch['batch_id']}"
    assert (batch["kind"], batch["format"], batch["status"]) == ("deaths", "csv", "completed")
    assert (batch["lines"], batch["accepted"], batch["duplicates"], batch["rejected"]) == (
        11,
        3,
        1,
        7,
    )
    report = {line["line"]: line for line in batch["report"]}
    assert sorted(report) == [2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13]
    assert {n: report[n]["outcome"] for n in report} == {
        2: "accepted",
        3: "rejected",
        4: "rejected",
        6: "accepted",
        7: "rejected",
        8: "rejected",
        9: "rejected",
        10: "rejected",
        11: "rejected",
        12: "accepted",
        13: "duplicate",
    }
    assert report[3]["reason"].startswith("id_number: check digit is ")
    assert report[4]["reason"] == f"date_of_death: {day(-1)} is in the future"
    assert report[7]["reason"] == ("source: 'hospital' is not one of civil_affairs, police, health")
    assert report[8]["reason"] == "region_code: region code 379999 is not a GB/T 2260 code"
    assert report[9]["reason"] == "3 fields, the header names 4"
    assert report[10]["reason"] == f"region_code: {JINAN} is outside the region this caller serves"
    assert report[11]["reason"] == "date_of_death: 1899-12-31 is before 1900-01-01"
    assert report[13]["reason"] == "already recorded, first from civil_affairs"
    assert report[2]["id_number"] == masked(good[0])
    assert report[2]["record_id"] == report[13]["record_id"]
    assert report[9]["id_number"] is None  # the line was not read into fields
    for number in (*good, bad_check, jinan):
        assert number not in answer.text

    kept = await client.get(f"/batches/{batch['batch_id']}", headers=uploader())
    assert kept.status_code == 200 and kept.json() == batch

    by_key = await published(settings, db, topic_prefix)
    for number, died, source in (
        (good[0], day(3), "civil_affairs"),
        (good[1], day(2), "police"),
        (good[3], day(1), "health"),
    ):
        person_id = person_of(settings, number)
        [(kind, event)] = events_of(by_key, person_id)
        assert kind == RECORDED
        assert (event.date_of_death.isoformat(), event.source, event.region_code) == (
            died,
            source,
            SHOUGUANG,
        )
        assert event.record_id == death_record_id(person_id, event.date_of_death)
    for number in (good[2], good[4], jinan):
        assert events_of(by_key, person_of(settings, number)) == []


async def test_the_same_feed_uploaded_twice_publishes_nothing_new(
    client, settings, db, topic_prefix
) -> None:
    injured = [new_id_number() for _ in range(6)]
    rows = [
        {
            "id_number": number,
            "case_id": f"SG-JJ-{index:06d}-{injured[0][-6:]}",
            "accident_date": day(10 + index),
            "source": "traffic_police",
            "liable_party": f"鲁G·8K2Q{index}",
            "region_code": SHOUGUANG,
        }
        for index, number in enumerate(injured)
    ]
    rows[4] = {**rows[4], "liable_party": ""}  # rejected: no liable party
    rows.insert(2, {"id_number": injured[1], "case_id": "bad case", "accident_date": day(1)})
    body = jsonl_body(*rows)
    first = await upload(client, "accidents", body, JSONL)
    assert first.status_code == 201, first.text
    assert (first.json()["accepted"], first.json()["rejected"]) == (5, 2)
    assert [line["outcome"] for line in first.json()["report"]] == [
        "accepted",
        "accepted",
        "rejected",
        "accepted",
        "accepted",
        "rejected",
        "accepted",
    ]
    assert (
        first.json()["report"][2]["reason"]
        == "case_id: only letters, digits and - _ / . are allowed"
    )
    by_key = await published(settings, db, topic_prefix)
    once = {number: events_of(by_key, person_of(settings, number)) for number in injured}
    assert [kind for events in once.values() for kind, _ in events] == [ACCIDENT] * 5
    outbox = await db.fetchval("select count(*) from outbox")

    again = await upload(client, "accidents", body, JSONL, caller=uploader(sub="bx-insurer"))
    assert again.status_code == 201, again.text
    assert again.json()["batch_id"] != first.json()["batch_id"]
    assert (again.json()["accepted"], again.json()["duplicates"], again.json()["rejected"]) == (
        0,
        5,
        2,
    )
    assert await db.fetchval("select count(*) from outbox") == outbox  # nothing recorded
    by_key = await published(settings, db, topic_prefix)
    assert {n: events_of(by_key, person_of(settings, n)) for n in injured} == once


async def test_the_same_death_from_three_sources_is_published_once(
    client, settings, db, topic_prefix
) -> None:
    number, died = new_id_number(), day(5)
    person_id = person_of(settings, number)
    row = f"{number},{died},civil_affairs,{SHOUGUANG}"
    assert (await upload(client, "deaths", csv_body(DEATH_HEADER, row))).json()["accepted"] == 1
    alone = await client.post(
        "/deaths",
        json={
            "id_number": number,
            "date_of_death": died,
            "source": "police",
            "region_code": SHOUGUANG,
        },
        headers=bearer("feeds", **POLICE),
    )
    assert alone.status_code == 200, alone.text
    assert alone.json()["outcome"] == "duplicate"
    health = jsonl_body(
        {"id_number": number, "date_of_death": died, "source": "health", "region_code": SHOUGUANG}
    )
    answer = await upload(client, "deaths", health, JSONL)
    assert answer.json()["duplicates"] == 1
    record_id = death_record_id(person_id, date.fromisoformat(died))
    sources = await db.fetch(
        "select source from death_sources where record_id = $1 order by source", record_id
    )
    assert [r["source"] for r in sources] == ["civil_affairs", "health", "police"]
    by_key = await published(settings, db, topic_prefix)
    assert [kind for kind, _ in events_of(by_key, person_id)] == [RECORDED]


async def test_a_later_record_with_another_date_of_death_is_a_correction(
    client, settings, db, topic_prefix
) -> None:
    number = new_id_number()
    person_id = person_of(settings, number)
    death = {
        "id_number": number,
        "date_of_death": day(9),
        "source": "health",
        "region_code": SHOUGUANG,
    }
    first = await client.post("/deaths", json=death, headers=uploader())
    assert first.status_code == 201, first.text
    assert first.json() == {
        "line": None,
        "outcome": "accepted",
        "reason": None,
        "id_number": masked(number),
        "record_id": death_record_id(person_id, date.fromisoformat(day(9))),
    }
    body = csv_body(
        DEATH_HEADER,
        f"{number},{day(7)},civil_affairs,{SHOUGUANG}",
        f"{number},{day(9)},police,{SHOUGUANG}",  # the first date again: known, no flip back
    )
    answer = await upload(client, "deaths", body)
    assert [(line["outcome"], line["reason"]) for line in answer.json()["report"]] == [
        ("accepted", f"corrects the date of death {day(9)}"),
        ("duplicate", "already recorded, first from health, since corrected"),
    ]
    by_key = await published(settings, db, topic_prefix)
    (recorded_type, recorded), (corrected_type, corrected) = events_of(by_key, person_id)
    assert (recorded_type, corrected_type) == (RECORDED, CORRECTED)
    assert corrected.previous_record_id == recorded.record_id
    assert corrected.previous_date_of_death == recorded.date_of_death
    assert corrected.date_of_death.isoformat() == day(7)
    assert corrected.source == "civil_affairs"
    current = await db.fetch(
        "select record_id from deaths where person_id = $1 and superseded_by is null", person_id
    )
    assert [r["record_id"] for r in current] == [corrected.record_id]


async def test_a_record_alone_is_checked_like_a_line(client, settings) -> None:
    number = new_id_number()
    case = {
        "id_number": number,
        "case_id": f"SG-JJ-{number[-8:]}",
        "accident_date": day(4),
        "source": "insurer",
        "liable_party": "人保财险 PDAA202637020000012345",
        "region_code": SHOUGUANG,
    }
    created = await client.post("/accidents", json=case, headers=uploader())
    assert created.status_code == 201, created.text
    assert created.json()["record_id"] == case["case_id"]
    again = await client.post(
        "/accidents", json={**case, "source": "traffic_police"}, headers=uploader()
    )
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    other_day = await client.post(
        "/accidents", json={**case, "accident_date": day(3)}, headers=uploader()
    )
    assert other_day.status_code == 422, other_day.text
    assert other_day.json()["detail"] == (
        f"case_id: case {case['case_id']} was recorded for this person with the accident date "
        f"{day(4)}"
    )
    bad = await client.post(
        "/accidents", json={**case, "id_number": number[:-1] + "Y"}, headers=uploader()
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"] == [
        {"field": "id_number", "reason": "last character is 'Y', expected a digit or X"}
    ]
    assert number[:-1] not in bad.text
    elsewhere = await client.post(
        "/accidents",
        json={**case, "region_code": QINGDAO, "case_id": "QD-1"},
        headers=uploader(),
    )
    assert elsewhere.status_code == 403, elsewhere.text


async def test_bodies_that_are_no_batch_are_problems_and_keep_nothing(client, db) -> None:
    batches = await db.fetchval("select count(*) from batches")
    row = f"{new_id_number()},{day(1)},police,{SHOUGUANG}"
    for content_type, body, status, kind in (
        ("application/json", b"[]", 415, "unsupported-media-type"),
        ("text/csv; charset=gbk", csv_body(DEATH_HEADER, row), 415, "unsupported-media-type"),
        (CSV, csv_body("id_number,source,region_code", row), 422, "unknown-format"),
        (CSV, b"", 422, "unknown-format"),
        (CSV, csv_body(DEATH_HEADER), 422, "unknown-format"),
        (JSONL, b"\n\n", 422, "unknown-format"),
    ):
        answer = await upload(client, "deaths", body, content_type)
        assert answer.status_code == status, (content_type, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == f"/problems/{kind}"
    assert await db.fetchval("select count(*) from batches") == batches


async def test_a_body_announced_too_large_is_refused_before_it_is_read(client, db) -> None:
    batches = await db.fetchval("select count(*) from batches")
    body = csv_body(DEATH_HEADER) + b"x" * MAX_BYTES
    answer = await upload(client, "deaths", body)
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"] == "/problems/too-large"
    assert "batch_id" not in answer.json()
    assert await db.fetchval("select count(*) from batches") == batches


async def test_a_stream_over_the_bounds_keeps_what_was_read_and_says_so(client, db) -> None:
    numbers = [new_id_number() for _ in range(MAX_LINES + 5)]
    rows = [f"{n},{day(2)},police,{SHOUGUANG}" for n in numbers]
    answer = await upload(client, "deaths", csv_body(DEATH_HEADER, *rows))
    assert answer.status_code == 413, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/too-large"
    kept = await client.get(f"/batches/{problem['batch_id']}", headers=uploader())
    assert kept.json()["status"] == "incomplete"
    assert (
        kept.json()["stopped_reason"] == f"over {MAX_LINES} lines: read up to line {MAX_LINES + 1}"
    )
    assert kept.json()["accepted"] == MAX_LINES

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: streamed past the bound
        yield csv_body(DEATH_HEADER, f"{new_id_number()},{day(2)},police,{SHOUGUANG}")
        for _ in range(MAX_BYTES // 1000 + 1):
            yield b"," * 999 + b"\n"

    answer = await upload(client, "deaths", chunked())
    assert answer.status_code == 413, answer.text
    kept = await client.get(f"/batches/{answer.json()['batch_id']}", headers=uploader())
    assert kept.json()["status"] == "incomplete"
    assert kept.json()["stopped_reason"].startswith(f"over {MAX_BYTES} bytes")
    assert kept.json()["accepted"] == 1


async def test_an_upload_cut_off_keeps_what_was_read_and_says_so(app, settings) -> None:
    rows = [f"{new_id_number()},{day(2)},health,{SHOUGUANG}" for _ in range(CHUNK + 1)]

    async def cut_off() -> AsyncIterator[bytes]:
        yield csv_body(DEATH_HEADER, *rows) + b"37078"
        raise ClientDisconnect()

    batch = await Upload(
        app.state.pool,
        settings,
        DEATH_RECORDS,
        "csv",
        uploaded_by="ws-weifang",
        serves=lambda code: True,
        today=today(),
        correlation_id="cut-off-test",
    ).run(cut_off())
    assert (batch.status, batch.lines, batch.accepted) == ("incomplete", CHUNK + 1, CHUNK + 1)
    assert batch.stopped_reason == f"the upload was cut off after line {CHUNK + 2}"


async def test_another_callers_batch_is_not_found(client) -> None:
    row = f"{new_id_number()},{day(2)},police,{SHOUGUANG}"
    batch = (await upload(client, "deaths", csv_body(DEATH_HEADER, row))).json()
    other = await client.get(f"/batches/{batch['batch_id']}", headers=uploader(sub="ga-qingdao"))
    assert other.status_code == 404
    missing = await client.get("/batches/no-such-batch", headers=uploader())
    assert missing.status_code == 404
    assert other.json()["detail"].replace(batch["batch_id"], "X") == missing.json()[
        "detail"
    ].replace("no-such-batch", "X")


async def test_thousands_of_lines_stream_in_chunks_and_no_raw_id_number_is_kept(
    app, settings, db, topic_prefix
) -> None:
    """3,000 lines sent in 8 KiB pieces, 500 lines a transaction: every line reported, every
    good one published once; afterwards no table of the feeds' database and no record on the
    wire holds an ID number as it was sent."""
    wide = settings.model_copy(update={"batch_chunk_lines": 500, "batch_max_lines": 200_000,
                                       "batch_max_bytes": 64 * 1024 * 1024})  # fmt: skip
    numbers = list({new_id_number(): None for _ in range(3000)})
    rows = [f"{n},{day(1 + i % 300)},civil_affairs,{SHOUGUANG}" for i, n in enumerate(numbers)]
    rows[100] = rows[100].replace("civil_affairs", "unknown")
    body = csv_body(DEATH_HEADER, *rows)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    async with running(create_app(wide)) as wide_app, client_of(wide_app, "feeds") as big:
        started = time.monotonic()
        answer = await upload(big, "deaths", pieces())
        elapsed = time.monotonic() - started
    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert (batch["lines"], batch["accepted"], batch["rejected"]) == (len(rows), len(rows) - 1, 1)
    assert [line["line"] for line in batch["report"]] == list(range(2, len(rows) + 2))
    print(f"{len(rows)} lines in {elapsed:.1f} s")
    by_key = await published(settings, db, topic_prefix)
    recorded = [n for n in numbers if events_of(by_key, person_of(settings, n))]
    assert len(recorded) == len(rows) - 1

    raw = set(numbers)
    tables = (
        "batches",
        "batch_lines",
        "deaths",
        "death_sources",
        "accident_cases",
        "accident_sources",
    )
    for table in tables:
        for record in await db.fetch(f"select * from {table}"):
            assert not raw & {str(value) for value in record.values()}, table
    for record in await db.fetch("select headers::text as h, payload from outbox"):
        text = record["h"] + bytes(record["payload"]).decode()
        assert not any(n in text for n in numbers[:200])
