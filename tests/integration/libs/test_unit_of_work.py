import asyncio

import pytest

from chs_events.errors import Conflict
from chs_events.events.enrollment import ContactChanged
from chs_events.unit_of_work import UnitOfWork

PERSON = "p" + "1" * 32


@pytest.fixture
async def pool(database):
    _, pool = database
    async with pool.acquire() as conn:
        await conn.execute("create table persons (person_id text primary key, mobile text)")
    return pool


async def counts(pool) -> tuple[int, int]:
    async with pool.acquire() as conn:
        return (
            await conn.fetchval("select count(*) from persons"),
            await conn.fetchval("select count(*) from outbox"),
        )


async def test_the_change_and_its_events_commit_together(pool):
    async with pool.acquire() as conn:
        async with UnitOfWork(conn, source="/chs/test", correlation_id="req-7") as uow:
            await conn.execute("insert into persons values ($1, $2)", PERSON, "13800000001")
            await uow.record(ContactChanged(person_id=PERSON))
        headers = dict(await conn.fetchval("select headers from outbox"))
    assert await counts(pool) == (1, 1)
    assert headers["ce_correlationid"] == "req-7"
    assert headers["ce_source"] == "/chs/test"


async def test_a_failure_rolls_back_the_change_and_its_events(pool):
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, UnitOfWork(conn, source="/chs/test") as uow:
            await conn.execute("insert into persons values ($1, $2)", PERSON, "13800000001")
            await uow.record(ContactChanged(person_id=PERSON))
            raise RuntimeError("the rules said no")
    assert await counts(pool) == (0, 0)


async def test_a_concurrent_duplicate_is_a_conflict(pool):
    async with pool.acquire() as conn:
        await conn.execute("insert into persons values ($1, $2)", PERSON, "13800000001")
        with pytest.raises(Conflict, match="concurrent"):
            async with UnitOfWork(conn, source="/chs/test") as uow:
                await uow.record(ContactChanged(person_id=PERSON))
                await conn.execute("insert into persons values ($1, $2)", PERSON, "x")
    assert await counts(pool) == (1, 0)


async def test_changes_and_their_events_in_one_statement(pool):
    insert = "insert into persons values ($1, $2) on conflict do nothing returning 1"
    update = "update persons set mobile = $2 where person_id = $1"

    def listen(*args: object) -> None:
        listened.append(args[2])

    listened: list[object] = []
    async with pool.acquire() as conn:
        await conn.add_listener("chs_outbox", listen)
        async with pool.acquire() as writer, UnitOfWork(writer, source="/chs/test") as uow:
            wrote = await uow.record_with(
                [(insert, (PERSON, "13800000001")), (update, ("p" + "2" * 32, "x"))],
                ContactChanged(person_id=PERSON),
                ContactChanged(person_id=PERSON),
            )
        assert wrote and await counts(pool) == (1, 2)
        async with pool.acquire() as writer, UnitOfWork(writer, source="/chs/test") as uow:
            again = await uow.record_with(
                [(insert, (PERSON, "13800000002")), (update, (PERSON, "13800000003"))],
                ContactChanged(person_id=PERSON),
            )
        # the first change wrote nothing: no event; the others still ran
        assert not again and await counts(pool) == (1, 2)
        assert await conn.fetchval("select mobile from persons") == "13800000003"
        await asyncio.sleep(0.2)
        await conn.remove_listener("chs_outbox", listen)  # a pooled connection listens to nothing
        assert listened  # the relay was woken
