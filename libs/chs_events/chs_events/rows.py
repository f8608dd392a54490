"""Rows ↔ frozen dataclasses (asyncpg, no ORM): a ``Table`` knows a table's columns and how a
row becomes the dataclass and back, and writes the repetitive queries a repository needs.

The columns are the dataclass's fields (``dataclasses.fields``) unless given. A column whose
value is stored in another form names a ``Convert`` (``ARRAY``: a tuple field in an array
column; a JSON document; …); an aggregate that does not map field by field (nested values)
gives its own ``columns``, ``load`` and ``dump``. The SQL stays visible at the call site: the
caller writes the ``where`` clause (with its ``order by``, ``limit``, ``for update skip locked``)
and names the columns an update changes::

    ACCOUNTS = Table("accounts", Account, key="account_id")

    await ACCOUNTS.insert(conn, account, on_conflict_do_nothing="(person_id)")
    await ACCOUNTS.fetch_one(conn, "person_id = $1", person_id, for_update=True)
    await ACCOUNTS.fetch(conn, "person_id = $1 order by opened_on", person_id)
    await ACCOUNTS.update(conn, account, ("status", "balance_fen"), also="updated_at = now()")
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

import asyncpg

T = TypeVar("T")


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Convert:
    """How one column's value is written (``to_db``) and read (``from_db``)."""

    to_db: Callable[[Any], Any] = _same
    from_db: Callable[[Any], Any] = _same


# A tuple field kept in an array column: a list to asyncpg, a tuple again when read.
ARRAY = Convert(to_db=list, from_db=tuple)


def column_names(text: str) -> tuple[str, ...]:
    """``"a, b,\\n c"`` → ``("a", "b", "c")``: a column list as written in SQL."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def placeholders(count: int, *, start: int = 1) -> str:
    """``$1, $2, …``: ``count`` parameters from ``$start``."""
    return ", ".join(f"${i}" for i in range(start, start + count))


class Table(Generic[T]):
    """One table whose rows are values of ``type_``; ``key`` is the column an ``update`` and a
    ``get`` find the row by (none for a table they are not used on)."""

    def __init__(
        self,
        name: str,
        type_: type[T],
        *,
        key: str | None = None,
        convert: Mapping[str, Convert] | None = None,
        columns: Iterable[str] | str | None = None,
        load: Callable[[Any], T] | None = None,
        dump: Callable[[T], Sequence[Any]] | None = None,
    ) -> None:
        if columns is None:
            columns = tuple(f.name for f in fields(type_))  # type: ignore[arg-type]
        elif isinstance(columns, str):
            columns = column_names(columns)
        self.name = name
        self.type = type_
        self.key = key
        self.columns: tuple[str, ...] = tuple(columns)
        self.convert: dict[str, Convert] = dict(convert or {})
        self._load = load
        self._dump = dump
        named = set(self.convert) | ({key} if key is not None else set())
        unknown = named - set(self.columns)
        if unknown:
            raise ValueError(f"{name}: not a column: {sorted(unknown)}")

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)

    # --- rows ↔ values ---------------------------------------------------------------------

    def load(self, row: Mapping[str, Any]) -> T:
        """The value a selected row holds."""
        if self._load is not None:
            return self._load(row)
        values = {name: row[name] for name in self.columns}
        for name, convert in self.convert.items():
            values[name] = convert.from_db(values[name])
        return self.type(**values)

    def dump(self, obj: T) -> tuple[Any, ...]:
        """The value's parameters for ``columns``, in order."""
        if self._dump is not None:
            return tuple(self._dump(obj))
        return tuple(self._value(obj, name) for name in self.columns)

    def _value(self, obj: T, name: str) -> Any:
        value = getattr(obj, name)
        convert = self.convert.get(name)
        return convert.to_db(value) if convert else value

    # --- SQL -------------------------------------------------------------------------------

    def select_sql(self, where: str, *, for_update: bool = False) -> str:
        return f"select {self.column_list} from {self.name} where {where}" + (
            " for update" if for_update else ""
        )

    def insert_sql(self, *, on_conflict_do_nothing: bool | str = False) -> str:
        """``on_conflict_do_nothing``: True for any conflict, or the conflict target
        (``"(person_id)"``, ``"(a, b) where status = 'active'"``); the statement then returns
        ``true`` when it inserted."""
        sql = (
            f"insert into {self.name} ({self.column_list}) "
            f"values ({placeholders(len(self.columns))})"
        )
        if on_conflict_do_nothing is False:
            return sql
        target = "" if on_conflict_do_nothing is True else f" {on_conflict_do_nothing}"
        return f"{sql} on conflict{target} do nothing returning true"

    def update_sql(self, columns: Sequence[str], *, also: str = "") -> str:
        """``update … set c1 = $2, c2 = $3, …[, also] where key = $1``."""
        unknown = set(columns) - set(self.columns)
        if unknown or not columns:
            raise ValueError(f"{self.name}: cannot update {sorted(unknown) or 'no columns'}")
        assignments = [f"{name} = ${i}" for i, name in enumerate(columns, start=2)]
        if also:
            assignments.append(also)
        return f"update {self.name} set {', '.join(assignments)} where {self._key()} = $1"

    def _key(self) -> str:
        if self.key is None:
            raise TypeError(f"{self.name}: no key column")
        return self.key

    # --- queries ---------------------------------------------------------------------------

    async def insert(
        self, conn: asyncpg.Connection, obj: T, *, on_conflict_do_nothing: bool | str = False
    ) -> bool:
        """Insert the value; False when ``on_conflict_do_nothing`` skipped it."""
        sql = self.insert_sql(on_conflict_do_nothing=on_conflict_do_nothing)
        if on_conflict_do_nothing is False:
            await conn.execute(sql, *self.dump(obj))
            return True
        return await conn.fetchval(sql, *self.dump(obj)) is not None

    async def get(
        self, conn: asyncpg.Connection, key: Any, *, for_update: bool = False
    ) -> T | None:
        """The row whose ``key`` column is ``key`` (locked with ``for_update``)."""
        return await self.fetch_one(conn, f"{self._key()} = $1", key, for_update=for_update)

    async def fetch_one(
        self, conn: asyncpg.Connection, where: str, *args: Any, for_update: bool = False
    ) -> T | None:
        row = await conn.fetchrow(self.select_sql(where, for_update=for_update), *args)
        return self.load(row) if row else None

    async def fetch(self, conn: asyncpg.Connection, where: str, *args: Any) -> list[T]:
        return [self.load(row) for row in await conn.fetch(self.select_sql(where), *args)]

    async def update(
        self, conn: asyncpg.Connection, obj: T, columns: Sequence[str], *, also: str = ""
    ) -> None:
        """Write ``columns`` of the value to its row (found by ``key``); ``also`` adds SQL
        assignments (``"updated_at = now()"``), in which ``$2``… are ``columns`` in order."""
        await conn.execute(
            self.update_sql(columns, also=also),
            self._value(obj, self._key()),
            *(self._value(obj, name) for name in columns),
        )
