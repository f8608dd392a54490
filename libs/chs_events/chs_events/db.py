"""A service's own PostgreSQL database: creation, connection pool, SQL migrations.

Migrations are numbered ``.sql`` files in a package folder, applied once each in order under an
advisory lock, so several instances starting together are safe. The shared mechanism's tables
(outbox, inbox) come first, from ``chs_events/migrations``; then the tables of the read models
the service opts into (``chs_events.read_models``), each under its own namespace; then the
service's own.
"""

import importlib
import logging
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import NamedTuple

import asyncpg
import orjson

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x43485301  # any constant shared by all instances of a service

# The server is down, restarting or out of connections, or the connection to it broke: not the
# fault of the statement that met it. (A bare ``OSError`` is not here: a handler that cannot read
# a file has a bug, not an outage.)
CONNECTION_LOST = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.OperatorInterventionError,
    # A pooled connection caught mid-operation when the server shut down under it.
    asyncpg.InternalClientError,
)

# Bounds on every connection, so a stuck server or a forgotten lock fails a request instead of
# hanging it: connecting, a statement, waiting for a row lock, an open transaction left idle.
CONNECT_TIMEOUT_SECONDS = 10.0
SERVER_SETTINGS = {
    "statement_timeout": "30s",
    "lock_timeout": "10s",
    "idle_in_transaction_session_timeout": "60s",
}
# How long a request waits for a free connection of the pool before it fails.
POOL_ACQUIRE_TIMEOUT_SECONDS = 10.0


async def ensure_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'create database "{name}"')
                log.info("database created", extra={"database": name})
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass  # another instance created it meanwhile
    finally:
        await conn.close()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type,
            schema="pg_catalog",
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
        )


async def connect(dsn: str, *, application_name: str | None = None) -> asyncpg.Connection:
    """A single connection with the same codecs and bounds as the pool's (json via orjson);
    ``application_name`` names it in ``pg_stat_activity``."""
    named = {"application_name": application_name} if application_name else {}
    conn = await asyncpg.connect(
        dsn, timeout=CONNECT_TIMEOUT_SECONDS, server_settings=SERVER_SETTINGS | named
    )
    await _init_connection(conn)
    return conn


async def _session_kept(conn: asyncpg.Connection) -> None:
    """A released connection's reset: nothing beyond asyncpg's own (an open transaction rolled
    back, listeners dropped). A pooled connection never holds session state — LISTEN, session
    advisory locks, ``set`` and cursors live on connections of their own (``connect``) — so the
    default reset query (``unlock all; close all; unlisten *; reset all``) would be a round trip
    per request and per batch that changes nothing."""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections carry no session state (see ``_session_kept``)."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_session_kept,
        timeout=CONNECT_TIMEOUT_SECONDS,
        server_settings=SERVER_SETTINGS,
    )


class MigrationFolder(NamedTuple):
    """The scripts of ``folder`` whose names end with ``suffix``, recorded under ``namespace``."""

    namespace: str
    folder: Traversable
    suffix: str = ".sql"


def read_model_migrations(name: str) -> MigrationFolder:
    """The migrations of ``chs_events.read_models.<name>`` (``NNNN_<name>.sql``)."""
    if not (files("chs_events.read_models") / f"{name}.py").is_file():
        raise ValueError(f"no read model {name!r} in chs_events.read_models")
    return MigrationFolder(
        f"chs_events.read_models.{name}",
        files("chs_events.read_models") / "migrations",
        f"_{name}.sql",
    )


def declared_read_models(service_package: str) -> tuple[str, ...]:
    """``READ_MODELS`` of ``<service_package>.migrations``: the read models its database has."""
    return tuple(
        getattr(importlib.import_module(f"{service_package}.migrations"), "READ_MODELS", ())
    )


def migration_folders(
    service_package: str, *, read_models: tuple[str, ...] | None = None
) -> list[MigrationFolder]:
    """The library's, the read models' (``read_models``; by default as the service's migrations
    package declares) and the service's migrations, in that order."""
    if read_models is None:
        read_models = declared_read_models(service_package)
    return [
        MigrationFolder("chs_events", files("chs_events") / "migrations"),
        *(read_model_migrations(name) for name in read_models),
        MigrationFolder(service_package, files(service_package) / "migrations"),
    ]


async def migrate(
    conn: asyncpg.Connection, folders: list[MigrationFolder] | list[tuple[str, Traversable]]
) -> list[str]:
    """Apply the pending migrations; returns the ones applied."""
    applied: list[str] = []
    async with conn.transaction():
        # A migration may rewrite a large table, and waits for the other instances' migrations.
        await conn.execute("set local statement_timeout = 0; set local lock_timeout = 0")
        await conn.execute("select pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute("""create table if not exists schema_migrations (
            namespace text not null, version text not null,
            applied_at timestamptz not null default now(), primary key (namespace, version))""")
        done = {
            (r["namespace"], r["version"])
            for r in await conn.fetch("select namespace, version from schema_migrations")
        }
        for namespace, folder, suffix in (MigrationFolder(*f) for f in folders):
            for script in sorted(
                (f for f in folder.iterdir() if f.name.endswith(suffix)), key=lambda f: f.name
            ):
                if (namespace, script.name) in done:
                    continue
                await conn.execute(script.read_text(encoding="utf-8"))
                await conn.execute(
                    "insert into schema_migrations (namespace, version) values ($1, $2)",
                    namespace,
                    script.name,
                )
                applied.append(f"{namespace}/{script.name}")
    if applied:
        log.info("migrations applied", extra={"migrations": applied})
    return applied


async def open_service_database(
    server_url: str, name: str, service_package: str, *, max_size: int = 10
) -> asyncpg.Pool:
    """Create the database if needed, migrate it, and return a pool on it."""
    from chs_events.settings import dsn_for_database

    await ensure_database(server_url, name)
    pool = await create_pool(dsn_for_database(server_url, name), max_size=max_size)
    async with pool.acquire() as conn:
        await migrate(conn, migration_folders(service_package))
    return pool
