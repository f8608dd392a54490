from dataclasses import dataclass

import pytest

from chs_events.rows import ARRAY, Convert, Table, column_names, placeholders

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Thing:
    thing_id: str
    owner_id: str
    tags: tuple[str, ...]
    note: str | None = None


THINGS = Table("things", Thing, key="thing_id", convert={"tags": ARRAY})


def test_the_columns_are_the_fields():
    assert THINGS.columns == ("thing_id", "owner_id", "tags", "note")
    assert THINGS.column_list == "thing_id, owner_id, tags, note"


def test_select():
    assert THINGS.select_sql("owner_id = $1 order by thing_id") == (
        "select thing_id, owner_id, tags, note from things where owner_id = $1 order by thing_id"
    )
    assert THINGS.select_sql("thing_id = $1", for_update=True).endswith(
        " where thing_id = $1 for update"
    )


def test_insert():
    assert THINGS.insert_sql() == (
        "insert into things (thing_id, owner_id, tags, note) values ($1, $2, $3, $4)"
    )
    assert THINGS.insert_sql(on_conflict_do_nothing=True).endswith(
        "values ($1, $2, $3, $4) on conflict do nothing returning true"
    )
    assert THINGS.insert_sql(on_conflict_do_nothing="(owner_id) where note is null").endswith(
        " on conflict (owner_id) where note is null do nothing returning true"
    )


def test_update():
    assert THINGS.update_sql(("tags", "note")) == (
        "update things set tags = $2, note = $3 where thing_id = $1"
    )
    assert THINGS.update_sql(("note",), also="updated_at = now()") == (
        "update things set note = $2, updated_at = now() where thing_id = $1"
    )
    with pytest.raises(ValueError, match="owner"):
        THINGS.update_sql(("owner",))
    with pytest.raises(ValueError):
        THINGS.update_sql(())


def test_values_and_rows_convert_both_ways():
    thing = Thing("t1", "o1", ("a", "b"))
    assert THINGS.dump(thing) == ("t1", "o1", ["a", "b"], None)
    assert THINGS.load({"thing_id": "t1", "owner_id": "o1", "tags": ["a", "b"], "note": None}) == (
        thing
    )


def test_a_custom_mapping():
    table = Table(
        "pairs",
        tuple,
        columns="left_value,\n    right_value",
        load=lambda row: (row["left_value"], row["right_value"]),
        dump=lambda pair: pair,
    )
    assert table.columns == ("left_value", "right_value")
    assert table.load({"left_value": 1, "right_value": 2}) == (1, 2)
    assert table.dump((1, 2)) == (1, 2)
    with pytest.raises(TypeError, match="no key"):
        table.update_sql(("left_value",))


def test_unknown_columns_are_refused():
    with pytest.raises(ValueError, match="nope"):
        Table("things", Thing, key="nope")
    with pytest.raises(ValueError, match="size"):
        Table("things", Thing, key="thing_id", convert={"size": Convert()})


def test_helpers():
    assert column_names("a, b,\n  c") == ("a", "b", "c")
    assert placeholders(3) == "$1, $2, $3"
    assert placeholders(2, start=3) == "$3, $4"
