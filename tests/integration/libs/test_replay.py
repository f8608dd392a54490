"""``python -m <service> replay <read-model>`` (``chs_events.replay``) on the real broker and
database: remote-care's enrollment read model rebuilt from offset 0 is row by row the live one;
rebuilt while the live consumer goes on writing, it misses nothing; rebuilt after its table was
emptied (a restored database: the group's offsets and inbox say everything was applied), it is
whole again."""

import asyncio
import os
import random
import sys
from datetime import date, timedelta

import asyncpg
import pytest

from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.db import connect, open_service_database
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
    StaffRemoved,
)
from chs_events.replay import ReplayRefused, replay
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS, dead_letter_spec
from chs_remote_care.consumers import ENROLLMENTS_CONSUMER, SUBSCRIPTIONS
from chs_remote_care.settings import RemoteCareSettings
from tests.support import broker
from tests.support.broker import until
from tests.support.service import throwaway_database

pytestmark = pytest.mark.integration

PACKAGE = "chs_remote_care"
REGIONS = ("370200", "370100", "370600", "110100")
COLUMNS = "enrollment_id, person_id, insutype, pooling_region, start_date, end_date"


def history(persons: range, seed: int) -> list[Envelope]:
    """Each person registered, then some moved, ended, or told of an event the read model does
    not read; one person's events in order."""
    rng = random.Random(seed)
    events: list[Envelope] = []
    for n in persons:
        person, enrollment = f"p-replay-{n}", f"e-replay-{n}"
        start = date(2024, 1, 1) + timedelta(days=n)
        events.append(
            Envelope(
                EnrollmentRegistered(
                    person_id=person,
                    enrollment_id=enrollment,
                    insutype=rng.choice(("310", "390")),
                    pooling_region=REGIONS[0],
                    start_date=start,
                ),
                source="/chs/enrollment",
            )
        )
        for _ in range(rng.randrange(3)):
            events.append(
                Envelope(
                    PoolingRegionChanged(
                        person_id=person,
                        enrollment_id=enrollment,
                        insutype="310",
                        from_region=REGIONS[0],
                        to_region=rng.choice(REGIONS[1:]),
                        changed_on=start + timedelta(days=30),
                        transfer_id=f"T-{n}-{len(events)}",
                    ),
                    source="/chs/enrollment",
                )
            )
        if rng.random() < 0.3:
            events.append(
                Envelope(
                    StaffRemoved(
                        person_id=person,
                        employer_id="E1",
                        enrollment_id=enrollment,
                        end_date=start + timedelta(days=60),
                    ),
                    source="/chs/enrollment",
                )
            )
        if rng.random() < 0.4:
            events.append(
                Envelope(
                    EnrollmentTerminated(
                        person_id=person,
                        enrollment_id=enrollment,
                        insutype="310",
                        end_date=start + timedelta(days=90),
                        reason="other",
                    ),
                    source="/chs/enrollment",
                )
            )
    return events


def expected(events: list[Envelope]) -> list[tuple]:
    """The read model's rows the events make, as the handlers would."""
    rows: dict[str, list] = {}
    for envelope in events:
        event = envelope.event
        if isinstance(event, EnrollmentRegistered):
            rows.setdefault(
                event.enrollment_id,
                [
                    event.enrollment_id,
                    event.person_id,
                    event.insutype,
                    event.pooling_region,
                    event.start_date,
                    None,
                ],
            )
        elif isinstance(event, PoolingRegionChanged):
            rows[event.enrollment_id][3] = event.to_region
        elif isinstance(event, EnrollmentTerminated):
            rows[event.enrollment_id][5] = event.end_date
    return sorted(tuple(row) for row in rows.values())


async def rows(conn: asyncpg.Connection, schema: str = "public") -> list[tuple]:
    found = await conn.fetch(
        f'select {COLUMNS} from "{schema}".enrollment_view order by enrollment_id'
    )
    return sorted(tuple(row) for row in found)


async def publish(settings, events: list[Envelope], pause: float = 0.0) -> None:
    await broker.publish(settings, settings.topic(ENROLLMENT_EVENTS), *events, pause=pause)


@pytest.fixture
async def service(database_url, kafka_bootstrap, topic_prefix):
    """remote-care's settings on a throwaway database and topics, and its live consumer of the
    enrollment read model running."""
    spec = BY_NAME[ENROLLMENT_EVENTS]
    await ensure_topics(kafka_bootstrap, topic_prefix, [spec, dead_letter_spec(spec)])
    async with throwaway_database(database_url, "remote_care") as name:
        settings = RemoteCareSettings(
            database_url=database_url,
            database_name=name,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
        )
        pool = await open_service_database(database_url, name, PACKAGE, max_size=4)
        stop = asyncio.Event()
        (subscription,) = [s for s in SUBSCRIPTIONS if s.name == ENROLLMENTS_CONSUMER]
        runner = ConsumerRunner(
            name=subscription.name,
            topics=subscription.topics,
            handlers=subscription.handlers,
            pool=pool,
            settings=settings,
        )
        task = asyncio.create_task(runner.run(stop))
        conn = await connect(settings.database_dsn)
        try:
            yield settings, conn
        finally:
            stop.set()
            await task
            await conn.close()
            await pool.close()


async def live_has(conn: asyncpg.Connection, wanted: list[tuple]) -> None:
    async def same():
        return await rows(conn) == wanted

    await until(same, timeout=60)


async def test_the_rebuilt_read_model_is_row_by_row_the_live_one(service):
    settings, conn = service
    events = history(range(150), seed=1)
    await publish(settings, events)
    await live_has(conn, expected(events))
    before = await rows(conn)

    done = await replay(settings, PACKAGE, "enrollments")

    assert done.tables == ["enrollment_view"]
    assert done.applied == sum(
        not isinstance(e.event, StaffRemoved) for e in events
    )  # the types the read model reads
    assert await rows(conn) == before  # the rebuilt one, now live
    assert await rows(conn, done.replaced) == before  # the one it replaced
    assert sum(done.ends.values()) == len(events)
    # The live consumer writes into the swapped-in table.
    more = history(range(150, 160), seed=2)
    await publish(settings, more)
    await live_has(conn, expected(events + more))
    assert await rows(conn, done.replaced) == before
    again = await replay(settings, PACKAGE, "enrollments")
    assert (done.replaced, again.replaced) == ("replaced_enrollments_1", "replaced_enrollments_2")
    assert await rows(conn) == await rows(conn, again.replaced) == expected(events + more)


async def test_a_replay_while_the_live_consumer_writes_misses_nothing(service):
    settings, conn = service
    events = history(range(300), seed=3)
    await publish(settings, events[:200])
    await live_has(conn, expected(events[:200]))

    meanwhile = asyncio.create_task(publish(settings, events[200:]))
    await asyncio.sleep(1.0)  # a part of them published, applied by the live consumer
    done = await replay(settings, PACKAGE, "enrollments", catch_up_below=20)
    await meanwhile

    await live_has(conn, expected(events))
    assert sum(done.ends.values()) > 200  # it read some of what came meanwhile
    assert done.applied >= sum(not isinstance(e.event, StaffRemoved) for e in events[:200])


async def test_a_read_model_emptied_is_rebuilt(service):
    settings, conn = service
    events = history(range(80), seed=4)
    removals = sum(isinstance(e.event, StaffRemoved) for e in events)
    await publish(settings, events)
    await live_has(conn, expected(events))
    await conn.execute("delete from enrollment_view")  # a restored database's state
    await asyncio.sleep(1.0)
    assert await rows(conn) == []  # the group's offsets and inbox: nothing left to apply

    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        PACKAGE,
        "replay",
        "enrollments",
        env={
            **os.environ,
            "CHS_DATABASE_URL": settings.database_url,
            "CHS_DATABASE_NAME": settings.database_name,
            "CHS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "CHS_TOPIC_PREFIX": settings.topic_prefix,
            "CHS_METRICS_PORT": "1",  # taken by the running worker: replay serves no metrics
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(command.communicate(), 120)
    assert command.returncode == 0, err.decode()
    assert out.decode().startswith(f"enrollments: {len(events) - removals} events applied")

    assert await rows(conn) == expected(events)
    replayed = await conn.fetchval(
        "select count(*) from pg_namespace where nspname like 'replay_enrollments_%'"
    )
    assert replayed == 0  # the build schema is gone; the replaced tables are kept aside


async def test_only_a_read_model_the_service_keeps_is_replayed(service):
    settings, _ = service
    with pytest.raises(ReplayRefused, match="no read model 'filings'"):
        await replay(settings, PACKAGE, "filings")
