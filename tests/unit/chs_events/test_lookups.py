from dataclasses import dataclass

import pytest

from chs_events.errors import NotFound
from chs_events.lookups import Lookup

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Thing:
    thing_id: str
    person_id: str


class ThingNotFound(NotFound):
    pass


class Connection:
    """Records the statements a lookup runs (the person's lock) and the reads it makes."""

    def __init__(self, *things: Thing) -> None:
        self.things = {thing.thing_id: thing for thing in things}
        self.executed: list[tuple[str, tuple[object, ...]]] = []
        self.reads: list[tuple[str, bool]] = []

    async def execute(self, sql: str, *args: object) -> None:
        self.executed.append((sql, args))


async def get_thing(conn: Connection, key: str, /, *, for_update: bool = False) -> Thing | None:
    conn.reads.append((key, for_update))
    return conn.things.get(key)


THINGS = Lookup("thing", get_thing, ThingNotFound)
A1 = Thing("A1", "P1")


async def test_found_answers_the_aggregate_without_locking() -> None:
    conn = Connection(A1)
    assert await THINGS.found(conn, "A1") == A1
    assert conn.executed == []
    assert conn.reads == [("A1", False)]


@pytest.mark.parametrize("use", ["found", "for_change"])
async def test_a_key_that_names_nothing_raises_the_kind_with_its_detail(use: str) -> None:
    conn = Connection()
    with pytest.raises(ThingNotFound) as raised:
        await getattr(THINGS, use)(conn, "B2")
    assert raised.value.detail == "no thing B2"
    assert conn.executed == []


async def test_for_change_locks_the_person_then_reads_again_for_update() -> None:
    conn = Connection(A1)
    assert await THINGS.for_change(conn, "A1") == A1
    assert [args for _, args in conn.executed] == [("P1",)]
    assert conn.reads == [("A1", False), ("A1", True)]


def test_the_kind_defaults_to_not_found() -> None:
    error = Lookup("thing", get_thing).not_found("C3")
    assert type(error) is NotFound and error.detail == "no thing C3"
