"""Rebuilding a read model from the log: ``python -m <service> replay <read-model>``.

A read model (``chs_events.read_models.<name>``: its ``TOPICS``, ``SUBSCRIPTION_HANDLERS`` and
migrations) is kept by a consumer group from topics the catalog keeps whole
(``chs_events.topics``: compacted or never deleted). When its tables are wrong or gone (a
restored database, a handler fixed, a new service), the group's offsets and inbox no longer
help: they say the events were applied. ``replay`` builds the tables again from offset 0 and
swaps them in:

1. the read model's migrations create its tables in a new schema ``replay_<name>_<n>``;
2. a reader without a consumer group (nothing committed; ``kafka.LogReader``) reads the topics
   from the beginning up to the end offsets taken at start, and the read model's handlers apply
   every event into the new tables (the connection's ``search_path`` is that schema, then the
   live one for the shared mechanism's tables: a registration still releases what is parked). A
   topic whose first offset is above 0 and is not compacted has lost history: refused;
3. it reads on to the new end offsets while fewer than ``catch_up_below`` events remain;
4. in one transaction: ``lock table … in exclusive mode`` on the live tables, the last events up
   to the end offsets taken under that lock applied, the live tables moved to the schema
   ``replaced_<name>_<n>`` (kept for comparison; drop it when satisfied) and the new ones moved
   into the live schema.

**The live consumer meanwhile** keeps running. It is paused only at the swap, by the table lock
(reads go on; writes wait, for the last few events and the renames), not by an advisory lock it
would have to take: the live handlers need no change. Every event it had committed into the live
tables was in the log before the lock was granted, so it is below the end offsets taken under the
lock and is in the new tables too. A write of its that waited on the lock is planned again after
the swap (PostgreSQL looks the table up again after the renames) and lands in the new tables, as
do its later events; one the replay had applied already is applied again, which the read models'
writes allow (keyed by the entity's id: an insert that finds the row changes nothing, an update
sets the same value; one person's events stay in order). Its inbox and offsets are not touched.
"""

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
from aiokafka import ConsumerRecord

from chs_events.consumer import Handler
from chs_events.db import (
    MigrationFolder,
    connect,
    declared_read_models,
    open_service_database,
    read_model_migrations,
)
from chs_events.envelope import Envelope, InvalidEnvelope
from chs_events.errors import DomainError
from chs_events.kafka import LogReader
from chs_events.processing import PermanentError
from chs_events.settings import PlatformSettings
from chs_events.topics import BY_NAME
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

REPLAY_LOCK = 0x43485302  # with the read model's name: one replay of a read model at a time


class ReplayRefused(Exception):
    """The read model cannot be rebuilt as asked (unknown, history lost, another replay runs)."""


@dataclass(frozen=True)
class ReadModel:
    name: str
    topics: Sequence[str]  # the catalog's names
    handlers: Mapping[str, Handler]
    migrations: MigrationFolder


def read_model(name: str) -> ReadModel:
    """``chs_events.read_models.<name>``: what it reads, how it applies it, its tables."""
    migrations = read_model_migrations(name)
    module = importlib.import_module(f"chs_events.read_models.{name}")
    return ReadModel(name, module.TOPICS, module.SUBSCRIPTION_HANDLERS, migrations)


@dataclass
class Replayed:
    read_model: str
    tables: list[str]
    replaced: str  # the schema the previous tables were moved to
    applied: int = 0  # events applied (of the read model's types)
    skipped: int = 0  # invalid ones, or refused by a handler (the live group dead-letters them)
    ends: dict[str, int] = field(default_factory=dict)  # "topic:partition" → offset read to


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Applier:
    """Applies a batch of records into the new tables, in a transaction (a savepoint inside the
    swap's)."""

    def __init__(self, conn: asyncpg.Connection, model: ReadModel, source: str) -> None:
        self._conn = conn
        self._model = model
        self._source = source
        self.applied = 0
        self.skipped = 0

    def _envelopes(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Envelope]:
        envelopes = []
        for record in records:
            ce_type = dict(record.headers or ()).get("ce_type")
            if ce_type is not None and ce_type.decode(errors="replace") not in self._model.handlers:
                continue
            try:
                envelopes.append(Envelope.from_record(record.key, record.value, record.headers))
            except InvalidEnvelope as error:
                self.skipped += 1
                log.warning(
                    "invalid record passed over",
                    extra={"topic": record.topic, "offset": record.offset, "reason": str(error)},
                )
        return [e for e in envelopes if e.type in self._model.handlers]

    async def _handle(self, envelope: Envelope) -> None:
        uow = UnitOfWork.caused_by(self._conn, envelope, source=self._source)
        await self._model.handlers[envelope.type](uow, envelope)

    async def apply(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        envelopes = self._envelopes(records)
        try:
            async with self._conn.transaction():
                for envelope in envelopes:
                    await self._handle(envelope)
            self.applied += len(envelopes)
            return
        except (DomainError, PermanentError):
            pass  # one of them is refused: again one at a time, passing over the refused
        async with self._conn.transaction():
            for envelope in envelopes:
                try:
                    async with self._conn.transaction():
                        await self._handle(envelope)
                    self.applied += 1
                except (DomainError, PermanentError) as error:
                    self.skipped += 1
                    log.warning(
                        "event refused by the handler; passed over",
                        extra={"event_id": envelope.id, "reason": str(error)},
                    )


async def _number(conn: asyncpg.Connection, name: str) -> int:
    return int(
        await conn.fetchval(
            r"""select coalesce(max(substring(nspname from '_(\d+)$')::int), 0) + 1
                from pg_namespace where nspname ~ ('^(replay|replaced)_' || $1 || '_\d+$')""",
            name,
        )
    )


async def _create_tables(conn: asyncpg.Connection, model: ReadModel, schema: str) -> list[str]:
    """The read model's tables, by its migrations, in ``schema`` (first on the connection's
    search path from now on; the live schema after it, for the parked events a handler
    releases)."""
    await conn.execute(f"create schema {_quoted(schema)}")
    await conn.execute(f"set search_path to {_quoted(schema)}, public")
    folder = model.migrations
    for script in sorted(
        (f for f in folder.folder.iterdir() if f.name.endswith(folder.suffix)), key=lambda f: f.name
    ):
        await conn.execute(script.read_text(encoding="utf-8"))
    rows = await conn.fetch(
        "select tablename from pg_tables where schemaname = $1 order by tablename", schema
    )
    return [row["tablename"] for row in rows]


async def _check_history(reader: LogReader, prefix: str) -> None:
    for partition, first in (await reader.beginning_offsets()).items():
        spec = BY_NAME.get(partition.topic.removeprefix(prefix))
        if first > 0 and not (spec is not None and spec.cleanup_policy == "compact"):
            raise ReplayRefused(
                f"{partition.topic} partition {partition.partition} begins at offset {first}: "
                "its older events are gone, a replay would lose them"
            )


async def replay(
    settings: PlatformSettings,
    package: str,
    name: str,
    *,
    catch_up_below: int = 1000,
) -> Replayed:
    """Rebuild the read model ``name`` of the service ``package`` from the log and swap it in."""
    if name not in declared_read_models(package):
        raise ReplayRefused(f"{package} keeps no read model {name!r}")
    model = read_model(name)
    pool = await open_service_database(  # created and migrated: the live tables exist
        settings.database_url, settings.database_name, package, max_size=1
    )
    await pool.close()
    conn = await connect(settings.database_dsn)
    try:
        if not await conn.fetchval(
            "select pg_try_advisory_lock($1, hashtext($2))", REPLAY_LOCK, name
        ):
            raise ReplayRefused(f"a replay of {name} is running")
        live = await conn.fetchval("select current_schema()")
        number = await _number(conn, name)
        build, replaced = f"replay_{name}_{number}", f"replaced_{name}_{number}"
        tables = await _create_tables(conn, model, build)
        try:
            done = await _rebuild(
                conn, settings, model, tables, live, build, replaced, catch_up_below
            )
        except BaseException:
            await conn.execute(f"drop schema if exists {_quoted(build)} cascade")
            raise
        log.info(
            "read model replayed",
            extra={
                "read_model": name,
                "applied": done.applied,
                "skipped": done.skipped,
                "replaced": replaced,
            },
        )
        return done
    finally:
        await conn.close()  # the session's advisory lock goes with it


async def _rebuild(
    conn: asyncpg.Connection,
    settings: PlatformSettings,
    model: ReadModel,
    tables: list[str],
    live: str,
    build: str,
    replaced: str,
    catch_up_below: int,
) -> Replayed:
    reader = LogReader(settings, f"replay-{model.name}", [settings.topic(t) for t in model.topics])
    await reader.start()
    try:
        await _check_history(reader, settings.topic_prefix)
        applier = _Applier(conn, model, settings.ce_source)
        ends = await reader.end_offsets()
        async for records in reader.read_to(ends):
            await applier.apply(records)
        while True:  # what arrived meanwhile, without the lock while there is much of it
            later = await reader.end_offsets()
            if sum(later.values()) - sum(ends.values()) < catch_up_below:
                break
            ends = later
            async for records in reader.read_to(ends):
                await applier.apply(records)
        async with conn.transaction():
            live_tables = [
                table
                for table in tables
                if await conn.fetchval(
                    "select to_regclass($1)", f"{_quoted(live)}.{_quoted(table)}"
                )
            ]
            if live_tables:
                await conn.execute(
                    "lock table "
                    + ", ".join(f"{_quoted(live)}.{_quoted(t)}" for t in live_tables)
                    + " in exclusive mode"
                )
            ends = await reader.end_offsets()  # under the lock: every committed write is below
            async for records in reader.read_to(ends):
                await applier.apply(records)
            await conn.execute(f"create schema {_quoted(replaced)}")
            for table in live_tables:
                await conn.execute(
                    f"alter table {_quoted(live)}.{_quoted(table)} set schema {_quoted(replaced)}"
                )
            for table in tables:
                await conn.execute(
                    f"alter table {_quoted(build)}.{_quoted(table)} set schema {_quoted(live)}"
                )
            await conn.execute(f"drop schema {_quoted(build)}")
        return Replayed(
            model.name,
            tables,
            replaced,
            applier.applied,
            applier.skipped,
            {f"{tp.topic}:{tp.partition}": offset for tp, offset in sorted(ends.items())},
        )
    finally:
        await reader.stop()


def replay_command(
    package: str, name: str
) -> Callable[[PlatformSettings, asyncio.Event], Awaitable[None]]:
    """The worker of ``python -m <package> replay <name>``: replays, prints what it did."""

    async def run(settings: PlatformSettings, stop: asyncio.Event) -> None:
        replaying = asyncio.ensure_future(replay(settings, package, name))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({replaying, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not replaying.done():  # SIGTERM or SIGINT: the new schema is dropped, nothing swapped
            replaying.cancel()
        stopped.cancel()
        done = await replaying
        print(
            f"{name}: {done.applied} events applied ({done.skipped} passed over) into "
            f"{', '.join(done.tables)}, read to "
            + ", ".join(f"{tp}@{offset}" for tp, offset in done.ends.items())
            + f"; the previous tables are in schema {done.replaced}"
            f' (drop schema "{done.replaced}" cascade when satisfied)'
        )

    return run
