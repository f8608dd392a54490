"""``chs_events.rows`` against PostgreSQL: the statements a ``Table`` writes insert, skip
conflicts, read, lock and update as the hand-written ones did."""

import asyncio
import json
from dataclasses import dataclass, replace

import asyncpg
import pytest

from chs_events.rows import ARRAY, Convert, Table

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Item:
    item_id: str
    owner_id: str
    tags: tuple[str, ...]
    details: tuple[tuple[str, int], ...]
    status: str = "open"
    note: str | None = None


ITEMS = Table(
    "items",
    Item,
    key="item_id",
    convert={
        "tags": ARRAY,
        "details": Convert(
            to_db=lambda pairs: [list(pair) for pair in pairs],
            from_db=lambda stored: tuple((name, count) for name, count in stored),
        ),
    },
)


@pytest.fixture
async def pool(database):
    _, pool = database
    async with pool.acquire() as conn:
        await conn.execute(
            """create table items (
                   item_id text primary key,
                   owner_id text not null,
                   tags text[] not null,
                   details jsonb not null,
                   status text not null,
                   note text,
                   updated_at timestamptz
               );
               create unique index items_one_open on items (owner_id) where status = 'open'"""
        )
    return pool


async def test_insert_then_read_back(pool):
    item = Item("i1", "o1", ("a", "b"), (("x", 1),), note="first")
    async with pool.acquire() as conn:
        assert await ITEMS.insert(conn, item) is True
        assert await ITEMS.get(conn, "i1") == item
        assert await ITEMS.get(conn, "missing") is None
        raw = await conn.fetchrow("select tags, details from items")
    assert raw["tags"] == ["a", "b"]
    assert raw["details"] == [["x", 1]]
    assert json.dumps(raw["details"]) == '[["x", 1]]'


async def test_a_conflict_is_skipped_or_raised(pool):
    async with pool.acquire() as conn:
        await ITEMS.insert(conn, Item("i1", "o1", (), ()))
        second = Item("i2", "o1", (), ())
        assert await ITEMS.insert(conn, second, on_conflict_do_nothing=True) is False
        assert (
            await ITEMS.insert(
                conn, second, on_conflict_do_nothing="(owner_id) where status = 'open'"
            )
            is False
        )
        # another target than the one violated: the violation is raised
        with pytest.raises(asyncpg.UniqueViolationError):
            await ITEMS.insert(conn, second, on_conflict_do_nothing="(item_id)")
        with pytest.raises(asyncpg.UniqueViolationError):
            await ITEMS.insert(conn, second)
        assert await ITEMS.insert(conn, replace(second, owner_id="o2"), on_conflict_do_nothing=True)
        assert await conn.fetchval("select count(*) from items") == 2


async def test_fetch_with_a_where_clause(pool):
    async with pool.acquire() as conn:
        for n in (3, 1, 2):
            await ITEMS.insert(conn, Item(f"i{n}", "o1", (), (), status=f"s{n}"))
        await ITEMS.insert(conn, Item("i9", "o9", (), ()))
        found = await ITEMS.fetch(conn, "owner_id = $1 order by item_id", "o1")
        assert [item.item_id for item in found] == ["i1", "i2", "i3"]
        one = await ITEMS.fetch_one(conn, "owner_id = $1 and status = $2", "o1", "s2")
        assert one is not None and one.item_id == "i2"
        assert await ITEMS.fetch_one(conn, "owner_id = $1", "nobody") is None


async def test_update_writes_the_named_columns_only(pool):
    item = Item("i1", "o1", ("a",), (), note="kept")
    async with pool.acquire() as conn:
        await ITEMS.insert(conn, item)
        changed = replace(item, tags=("b", "c"), status="closed", note="not written")
        await ITEMS.update(conn, changed, ("tags", "status"), also="updated_at = now()")
        assert await ITEMS.get(conn, "i1") == replace(changed, note="kept")
        assert await conn.fetchval("select updated_at is not null from items") is True


async def test_for_update_locks_the_row(pool):
    async with pool.acquire() as conn:
        await ITEMS.insert(conn, Item("i1", "o1", (), ()))
    async with pool.acquire() as first, pool.acquire() as second:
        locking = first.transaction()
        await locking.start()
        assert await ITEMS.get(first, "i1", for_update=True) is not None
        async with second.transaction():
            # a plain read does not wait, skip locked skips, a locking read waits
            assert await ITEMS.get(second, "i1") is not None
            skipped = await ITEMS.fetch_one(second, "item_id = $1 for update skip locked", "i1")
            assert skipped is None
            waiting = asyncio.create_task(ITEMS.get(second, "i1", for_update=True))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await locking.commit()
            assert await waiting is not None
