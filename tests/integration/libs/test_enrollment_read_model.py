"""The shared enrollment read model (``chs_events.read_models.enrollments``) against a real
database: fed through the real consumer runner, and its handlers called in a transaction."""

import asyncio
import logging
import uuid
from datetime import date

import pytest

from chs_events import inbox
from chs_events.consumer import ConsumerRunner
from chs_events.db import migrate, migration_folders, read_model_migrations
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.read_models import enrollments
from chs_events.read_models.enrollments import Enrollment
from chs_events.unit_of_work import UnitOfWork
from tests.support import broker
from tests.support.broker import until

pytestmark = pytest.mark.integration

QINGDAO, JINAN = "370200", "370100"
CONSUMER = "test-enrollments"


def registered(
    person_id: str, enrollment_id: str, insutype: str = "310", start: date = date(2025, 1, 1)
) -> Envelope:
    return Envelope(
        EnrollmentRegistered(
            person_id=person_id,
            enrollment_id=enrollment_id,
            insutype=insutype,
            pooling_region=QINGDAO,
            start_date=start,
        ),
        source="/chs/enrollment",
    )


def terminated(person_id: str, enrollment_id: str, end: date) -> Envelope:
    return Envelope(
        EnrollmentTerminated(
            person_id=person_id,
            enrollment_id=enrollment_id,
            insutype="310",
            end_date=end,
            reason="other",
        ),
        source="/chs/enrollment",
    )


def moved(person_id: str, enrollment_id: str, to_region: str = JINAN) -> Envelope:
    return Envelope(
        PoolingRegionChanged(
            person_id=person_id,
            enrollment_id=enrollment_id,
            insutype="310",
            from_region=QINGDAO,
            to_region=to_region,
            changed_on=date(2026, 3, 1),
            transfer_id="T-1",
        ),
        source="/chs/enrollment",
    )


async def apply(pool, envelope: Envelope) -> None:
    """What the consumer runner does with one event, without the inbox: the handler alone."""
    async with (
        pool.acquire() as conn,
        UnitOfWork.caused_by(conn, envelope, source="/chs/test") as uow,
    ):
        await enrollments.SUBSCRIPTION_HANDLERS[envelope.type](uow, envelope)


@pytest.fixture
async def pool(database):
    _, pool = database
    async with pool.acquire() as conn:
        applied = await migrate(conn, [read_model_migrations("enrollments")])
    assert applied == ["chs_events.read_models.enrollments/0001_enrollments.sql"]
    return pool


async def rows(pool, person_id: str) -> list[Enrollment]:
    async with pool.acquire() as conn:
        return await enrollments.enrollments_of(conn, person_id)


def test_only_a_service_that_opts_in_gets_the_table() -> None:
    namespaces = [f.namespace for f in migration_folders("chs_transfer")]
    assert namespaces == ["chs_events", "chs_events.read_models.enrollments", "chs_transfer"]
    assert [f.namespace for f in migration_folders("chs_transfer", read_models=())] == [
        "chs_events",
        "chs_transfer",
    ]
    assert [f.namespace for f in migration_folders("chs_chronic")] == ["chs_events", "chs_chronic"]
    folder = read_model_migrations("enrollments")
    assert [s.name for s in folder.folder.iterdir() if s.name.endswith(folder.suffix)] == [
        "0001_enrollments.sql"
    ]
    with pytest.raises(ValueError):
        read_model_migrations("nothing")


async def test_migration_is_applied_once(pool) -> None:
    async with pool.acquire() as conn:
        assert await migrate(conn, [read_model_migrations("enrollments")]) == []
        assert await conn.fetchval("select to_regclass('enrollment_view') is not null")


async def test_through_the_consumer_runner(pool, settings) -> None:
    person_id, enrollment_id, unknown = (str(uuid.uuid4()) for _ in range(3))
    events = [
        registered(person_id, enrollment_id),
        moved(person_id, enrollment_id),
        terminated(person_id, unknown, date(2026, 1, 31)),
        terminated(person_id, enrollment_id, date(2026, 6, 30)),
    ]
    twice = [envelope for envelope in events for _ in range(2)]  # every event delivered twice
    await broker.publish(settings, settings.topic(enrollments.TOPICS[0]), *twice)
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=CONSUMER,
        topics=enrollments.TOPICS,
        handlers=enrollments.SUBSCRIPTION_HANDLERS,
        pool=pool,
        settings=settings,
    )
    task = asyncio.create_task(runner.run(stop))
    try:

        async def all_processed() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval(
                    "select count(*) from inbox where consumer = $1", CONSUMER
                ) == len(events)

        await until(all_processed, timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    assert await rows(pool, person_id) == [
        Enrollment(enrollment_id, person_id, "310", JINAN, date(2025, 1, 1), date(2026, 6, 30))
    ]
    assert await rows(pool, unknown) == []
    async with pool.acquire() as conn:
        active = await enrollments.active_enrollment(conn, person_id, "310", date(2026, 6, 30))
        assert active is not None and active.pooling_region == JINAN
        assert await enrollments.active_enrollment(conn, person_id, "310", date(2026, 7, 1)) is None
        assert (
            await enrollments.active_enrollment(conn, person_id, "390", date(2026, 6, 30)) is None
        )


async def test_registered_is_active_from_its_start_date(pool) -> None:
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(pool, registered(person_id, enrollment_id, "390", start=date(2026, 1, 1)))
    [enrollment] = await rows(pool, person_id)
    assert enrollment == Enrollment(enrollment_id, person_id, "390", QINGDAO, date(2026, 1, 1))
    assert enrollment.active_on(date(2026, 1, 1)) and not enrollment.active_on(date(2025, 12, 31))
    async with pool.acquire() as conn:
        assert (
            await enrollments.active_enrollment(conn, person_id, "390", date(2030, 1, 1))
            == enrollment
        )
        assert (
            await enrollments.active_enrollment(conn, person_id, "390", date(2025, 12, 31)) is None
        )


async def test_terminated_is_active_through_its_end_date_only(pool) -> None:
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(pool, registered(person_id, enrollment_id))
    await apply(pool, terminated(person_id, enrollment_id, date(2026, 6, 30)))
    [enrollment] = await rows(pool, person_id)
    assert enrollment.end_date == date(2026, 6, 30)
    assert enrollment.active_on(date(2026, 6, 30)) and not enrollment.active_on(date(2026, 7, 1))


async def test_pooling_region_changed_moves_the_region(pool) -> None:
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(pool, registered(person_id, enrollment_id))
    await apply(pool, moved(person_id, enrollment_id, JINAN))
    assert [e.pooling_region for e in await rows(pool, person_id)] == [JINAN]


async def test_each_event_twice_has_the_effect_of_once(pool) -> None:
    """Idempotent by enrollment id even without the inbox: a registration delivered again
    does not undo the move and end that followed it."""
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    first = registered(person_id, enrollment_id)
    for envelope in (
        first,
        first,
        moved(person_id, enrollment_id),
        terminated(person_id, enrollment_id, date(2026, 6, 30)),
        first,
    ):
        await apply(pool, envelope)
        await apply(pool, envelope)
    assert await rows(pool, person_id) == [
        Enrollment(enrollment_id, person_id, "310", JINAN, date(2025, 1, 1), date(2026, 6, 30))
    ]


async def test_end_or_move_of_an_unknown_enrollment_is_logged_and_skipped(pool, caplog) -> None:
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    with caplog.at_level(logging.WARNING, logger=enrollments.__name__):
        await apply(pool, terminated(person_id, enrollment_id, date(2026, 6, 30)))
        await apply(pool, moved(person_id, enrollment_id))
    assert [r.getMessage() for r in caplog.records] == [
        "termination of an unknown enrollment skipped",
        "move of an unknown enrollment skipped",
    ]
    assert await rows(pool, person_id) == []


async def test_enrollments_of_locks_the_persons_rows(pool) -> None:
    person_id = str(uuid.uuid4())
    for start in (date(2024, 1, 1), date(2020, 1, 1)):
        await apply(pool, registered(person_id, str(uuid.uuid4()), start=start))
    async with pool.acquire() as holder, holder.transaction():
        held = await enrollments.enrollments_of(holder, person_id, for_update=True)
        assert [e.start_date for e in held] == [date(2020, 1, 1), date(2024, 1, 1)]
        async with pool.acquire() as other, other.transaction():
            await other.execute("set local lock_timeout = '200ms'")
            with pytest.raises(Exception, match="lock timeout"):
                await enrollments.enrollments_of(other, person_id, for_update=True)


async def test_inbox_claim_and_handler_in_one_transaction(pool) -> None:
    """As the runner does it: the second delivery is claimed already and skipped."""
    person_id, enrollment_id = str(uuid.uuid4()), str(uuid.uuid4())
    envelope = registered(person_id, enrollment_id)
    for _ in range(2):
        async with (
            pool.acquire() as conn,
            UnitOfWork.caused_by(conn, envelope, source="/chs/test") as uow,
        ):
            if await inbox.claim(conn, CONSUMER, envelope):
                await enrollments.SUBSCRIPTION_HANDLERS[envelope.type](uow, envelope)
    assert len(await rows(pool, person_id)) == 1
