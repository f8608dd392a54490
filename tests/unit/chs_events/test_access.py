"""A route's record of a person (``chs_events.access.found_for_person``): found by its key, then
the caller authorized for the record's person; a key naming nothing is 404 before any check."""

from dataclasses import dataclass

import pytest

from chs_events import access
from chs_events.auth import Caller
from chs_events.errors import NotFound
from chs_events.lookups import Lookup

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Thing:
    thing_id: str
    person_id: str


async def get_thing(conn: object, key: str, /, *, for_update: bool = False) -> Thing | None:
    return {"A1": Thing("A1", "P1")}.get(key)


THINGS = Lookup("thing", get_thing)
CALLER = Caller("someone", "person", {})


@pytest.fixture
def checks(monkeypatch) -> list[tuple[str, str]]:
    checked: list[tuple[str, str]] = []

    async def authorize_for_person(conn, caller, action, person_id, **_) -> None:
        assert caller is CALLER
        checked.append((action, person_id))

    monkeypatch.setattr(access, "authorize_for_person", authorize_for_person)
    return checked


async def test_the_record_is_answered_once_the_caller_is_authorized_for_its_person(checks):
    found = await access.found_for_person(None, CALLER, "x:read", THINGS, "A1")
    assert found == Thing("A1", "P1")
    assert checks == [("x:read", "P1")]


async def test_a_key_naming_nothing_is_not_found_before_any_check(checks):
    with pytest.raises(NotFound, match="no thing B2"):
        await access.found_for_person(None, CALLER, "x:read", THINGS, "B2")
    assert checks == []
