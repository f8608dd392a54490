"""The progress-notice worker as a real process against the real broker."""

import asyncio
import os
import secrets
import time
import urllib.request
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.enrollment import ContributionPaid, EnrollmentRegistered
from chs_events.events.notices import NoticeRequested
from chs_events.topics import (
    BY_NAME,
    ENROLLMENT_EVENTS,
    NOTICE_REQUESTS,
    dead_letter_spec,
    dlq_of,
)
from chs_progress_notices.rules import notice_id
from tests.support import broker
from tests.support.broker import read_topic
from tests.support.platform import free_port
from tests.support.process import Spawned

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join(
    str(REPO / p) for p in ("libs/chs_events", "services/progress-notices")
)
WAIT = 60.0


class Worker(Spawned):
    def wait_assigned(self, timeout: float = WAIT) -> float:
        """Seconds from spawning the process until it owned partitions of the source topic."""
        self.wait_for(
            lambda entry: (
                entry.get("message") == "partitions assigned" and bool(entry.get("partitions"))
            ),
            "partitions assigned",
            timeout,
        )
        return time.monotonic() - self.spawned


@pytest.fixture
async def topics(kafka_bootstrap, topic_prefix):
    source = BY_NAME[ENROLLMENT_EVENTS]
    await ensure_topics(
        kafka_bootstrap, topic_prefix, [source, dead_letter_spec(source), BY_NAME[NOTICE_REQUESTS]]
    )
    return topic_prefix


@pytest.fixture
def start_worker(kafka_bootstrap, topics, tmp_path):
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker.start(
            ["chs_progress_notices", "worker"],
            tmp_path / f"worker-{len(started)}.log",
            pythonpath=PYTHONPATH,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topics,
            data_dir=tmp_path / "data",
            **env,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop(timeout=15)


def person() -> str:
    return secrets.token_hex(32)


def registration(person_id: str) -> Envelope:
    return Envelope(
        EnrollmentRegistered(
            person_id=person_id,
            enrollment_id=secrets.token_hex(8),
            insutype="390",
            pooling_region="370200",
            start_date=date(2026, 11, 1),
        ),
        source="/chs/enrollment",
    )


def as_record(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    record = envelope.to_record()
    return record.key, record.value, record.headers


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as page:
        return page.read().decode()


def enrollment_id_of(envelope: Envelope) -> str:
    assert isinstance(envelope.event, EnrollmentRegistered)
    return envelope.event.enrollment_id


def notices_of(records: list[Any]) -> list[tuple[Any, Envelope]]:
    return [(r, Envelope.from_record(r.key, r.value, r.headers)) for r in records]


async def test_notices_requested_and_malformed_event_dead_lettered(
    kafka_bootstrap, topics, start_worker
):
    prefix = topics
    metrics_port = free_port()
    worker = start_worker(CHS_METRICS_PORT=str(metrics_port))
    print(f"\nworker assigned partitions {worker.wait_assigned():.2f} s after spawn")

    someone = person()
    first = registration(someone)
    malformed_headers = [(k, v) for k, v in first.to_record().headers if k != "ce_id"] + [
        ("ce_id", b"malformed-1")
    ]
    paid = Envelope(
        ContributionPaid(
            person_id=someone,
            payment_id="P1",
            enrollment_id=enrollment_id_of(first),
            insutype="390",
            period="202611",
            amount_fen=38000,
            employer_part_fen=0,
            personal_part_fen=38000,
            paid_at=first.time,
        ),
        source="/chs/enrollment",
    )
    # Valid, but the rules cannot map it: retried, then dead-lettered.
    unmappable = Envelope(
        first.event.model_copy(update={"pooling_region": "999999"}), source="/chs/enrollment"
    )
    produced, bad, _, failing = await broker.publish(
        kafka_bootstrap,
        f"{prefix}{ENROLLMENT_EVENTS}",
        as_record(first),
        (someone.encode(), b"{not json", malformed_headers),
        as_record(paid),
        as_record(unmappable),
    )

    records = await read_topic(kafka_bootstrap, f"{prefix}{NOTICE_REQUESTS}", 2, timeout=WAIT)
    latency_ms = max(r.timestamp for r in records) - produced.timestamp
    print(f"last notice appended {latency_ms} ms after the first source event")
    assert len(records) == 2
    by_template = {}
    for record, envelope in notices_of(records):
        notice = envelope.event
        assert isinstance(notice, NoticeRequested)
        assert record.key == someone.encode() == notice.person_id.encode()
        assert envelope.source == "/chs/progress-notices"
        by_template[notice.template_id] = (envelope, notice)
    assert set(by_template) == {"enrollment.registered", "enrollment.contribution_paid"}
    for template_id, source in (
        ("enrollment.registered", first),
        ("enrollment.contribution_paid", paid),
    ):
        envelope, notice = by_template[template_id]
        assert envelope.causation_id == source.id
        assert envelope.correlation_id == source.id  # the source had no correlation of its own
        assert notice.notice_id == notice_id(source.id, template_id, someone)
        assert notice.category == "business_result" and notice.priority == "high"
    assert by_template["enrollment.registered"][1].params == {
        "insutype_name": "城乡居民基本医疗保险",
        "region_name": "青岛市",
        "start_date": "2026-11-01",
    }
    assert by_template["enrollment.contribution_paid"][1].params == {
        "period": "2026年11月",
        "amount_yuan": "380.00",
        "insutype_name": "城乡居民基本医疗保险",
    }

    dead = await read_topic(
        kafka_bootstrap, f"{prefix}{dlq_of(ENROLLMENT_EVENTS)}", 2, timeout=WAIT
    )
    assert len(dead) == 2
    dead.sort(key=lambda r: r.offset)
    headers = dict(dead[0].headers)
    assert dead[0].value == b"{not json" and dead[0].key == someone.encode()
    assert b"not JSON" in headers["dlq_reason"]
    assert headers["dlq_error_type"] == b"InvalidEnvelope"
    assert headers["dlq_consumer"] == b"progress-notices"
    assert headers["dlq_source_topic"] == f"{prefix}{ENROLLMENT_EVENTS}".encode()
    assert headers["dlq_source_partition"] == str(bad.partition).encode()
    assert headers["dlq_source_offset"] == str(bad.offset).encode()
    assert headers["dlq_attempts"] == b"0"
    assert headers["dlq_failed_at"]
    assert headers["ce_id"] == b"malformed-1"  # the original headers travel with it

    headers = dict(dead[1].headers)
    assert dead[1].value == as_record(unmappable)[1]
    assert headers["dlq_error_type"] == b"InvalidRegionCode"
    assert b"999999" in headers["dlq_reason"]
    assert headers["dlq_attempts"] == b"4"
    assert headers["dlq_source_offset"] == str(failing.offset).encode()
    assert headers["ce_id"] == unmappable.id.encode()

    exposition = await asyncio.to_thread(scrape, f"http://127.0.0.1:{metrics_port}/metrics")
    assert 'chs_events_consumed_total{consumer="progress-notices"' in exposition
    assert 'chs_events_dead_lettered_total{consumer="progress-notices"' in exposition
    assert 'chs_events_failed_total{consumer="progress-notices"' in exposition
    assert 'chs_events_published_total{topic="chs.notices.requests"' in exposition

    assert worker.popen.poll() is None
    stopping = time.monotonic()
    assert worker.stop() == 0, worker.log.read_text()
    print(f"worker stopped {time.monotonic() - stopping:.2f} s after SIGTERM")
    logs = worker.lines()
    assert all("service" in entry for entry in logs), "every log line is the platform's JSON"
    assert not [
        e
        for e in logs
        if str(e.get("logger", "")).startswith(("faust", "mode"))
        and e.get("level") in ("DEBUG", "INFO")
    ]


async def test_known_events_around_a_newer_contract_are_processed(
    kafka_bootstrap, topics, start_worker
):
    """A producer deployed before this processor: a v1 event with a field it does not know,
    and an event type it has never heard of, between two known events. Both known ones are
    turned into notices; nothing is dead-lettered; the unknown type is counted."""
    prefix = topics
    metrics_port = free_port()
    worker = start_worker(CHS_METRICS_PORT=str(metrics_port))
    worker.wait_assigned()
    someone = person()
    first = registration(someone)
    key, value, headers = as_record(first)
    newer = {**orjson.loads(value), "community_code": "370202001"}
    unknown_type = [
        (n, b"chs.enrollment.community_assigned.v1" if n == "ce_type" else v)
        for n, v in as_record(registration(someone))[2]
    ]
    second = registration(someone)
    await broker.publish(
        kafka_bootstrap,
        f"{prefix}{ENROLLMENT_EVENTS}",
        (key, orjson.dumps(newer), headers),
        (key, orjson.dumps({"person_id": someone, "community": "x"}), unknown_type),
        as_record(second),
    )

    records = await read_topic(kafka_bootstrap, f"{prefix}{NOTICE_REQUESTS}", 2, timeout=WAIT)
    dead = await read_topic(kafka_bootstrap, f"{prefix}{dlq_of(ENROLLMENT_EVENTS)}", 0, timeout=1)
    exposition = await asyncio.to_thread(scrape, f"http://127.0.0.1:{metrics_port}/metrics")

    assert sorted(str(envelope.causation_id) for _, envelope in notices_of(records)) == sorted(
        [first.id, second.id]
    )
    assert dead == []
    assert (
        'chs_events_ignored_total{consumer="progress-notices",'
        'type="chs.enrollment.community_assigned.v1"} 1.0'
    ) in exposition


async def test_killed_worker_redelivers_with_the_same_notice_ids(
    kafka_bootstrap, topics, start_worker
):
    prefix = topics
    sources = [registration(person()) for _ in range(40)]
    await broker.publish(
        kafka_bootstrap, f"{prefix}{ENROLLMENT_EVENTS}", *[as_record(e) for e in sources[:25]]
    )

    # No periodic commit in the first run: everything it processed is redelivered.
    first = start_worker(CHS_COMMIT_INTERVAL_SECONDS="600")
    first.wait_assigned()
    before_kill = await read_topic(kafka_bootstrap, f"{prefix}{NOTICE_REQUESTS}", 10, timeout=WAIT)
    first.kill()
    processed_before_kill = len(
        await read_topic(
            kafka_bootstrap, f"{prefix}{NOTICE_REQUESTS}", len(before_kill), timeout=WAIT
        )
    )
    await broker.publish(
        kafka_bootstrap, f"{prefix}{ENROLLMENT_EVENTS}", *[as_record(e) for e in sources[25:]]
    )

    second = start_worker()
    print(
        f"\nrestarted worker assigned partitions {second.wait_assigned():.2f} s after spawn "
        "(the group first waits out the killed member)"
    )
    records = await read_topic(
        kafka_bootstrap,
        f"{prefix}{NOTICE_REQUESTS}",
        len(sources) + processed_before_kill,
        timeout=WAIT,
    )

    ids_by_source: dict[str, set[str]] = defaultdict(set)
    for record, envelope in notices_of(records):
        assert envelope.causation_id is not None and isinstance(envelope.event, NoticeRequested)
        ids_by_source[envelope.causation_id].add(envelope.event.notice_id)
        assert record.key == envelope.event.person_id.encode()
    assert set(ids_by_source) == {e.id for e in sources}
    for source in sources:
        assert ids_by_source[source.id] == {
            notice_id(source.id, "enrollment.registered", source.event.person_id)
        }
    distinct = {i for ids in ids_by_source.values() for i in ids}
    assert len(distinct) == len(sources)
    assert len(records) >= len(sources) + processed_before_kill  # the redeliveries happened
    print(
        f"{len(records)} notices on the wire for {len(sources)} source events; "
        f"{processed_before_kill} processed before SIGKILL"
    )
