"""What the services' integration tests share: a throwaway database on the real server, the
FastAPI app running its lifespan in-process with a client, and the outbox read back as
validated envelopes."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from chs_events.consumer import Subscription
from chs_events.db import connect
from chs_events.envelope import Envelope
from chs_events.retry import Backoff
from chs_events.runtime import consumers, run_together
from chs_events.settings import PlatformSettings
from tests.support.tokens import bearer


@asynccontextmanager
async def throwaway_database(database_url: str, service: str) -> AsyncIterator[str]:
    """A database name of the service's own, dropped (with its connections) afterwards."""
    name = f"chs_{service}_test_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await conn.close()


@asynccontextmanager
async def consuming(
    subscriptions: list[Subscription],
    pool: asyncpg.Pool,
    settings: PlatformSettings,
    *,
    backoff: Backoff = Backoff(),
) -> AsyncIterator[None]:
    """Every subscription's consumer runs, as the service's worker runs them (with ``backoff``
    between attempts: a test's dead letters come sooner), until the block ends."""
    runners = consumers(subscriptions, pool, settings, backoff=backoff)
    stop = asyncio.Event()
    task = asyncio.create_task(run_together(runners, stop))
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan run: database opened and migrated, broker probe ready."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_of(app: FastAPI, service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://{service}",
        headers=bearer(app.state.settings.service_name),
    ) as client:
        yield client


async def outbox_of(conn: asyncpg.Connection, key: str) -> list[Envelope]:
    """The key's outbox rows in order, each parsed and validated as a Kafka record."""
    rows = await conn.fetch(
        "select key, headers, payload from outbox where key = $1 order by position", key
    )
    return [
        Envelope.from_record(
            row["key"].encode(),
            row["payload"],
            [(name, value.encode()) for name, value in row["headers"]],
        )
        for row in rows
    ]


def types(envelopes: list[Envelope]) -> list[str]:
    return [envelope.type for envelope in envelopes]


class ServiceFixtures(NamedTuple):
    settings: Any
    app: Any
    client: Any
    db: Any


def service_fixtures(
    service: str,
    settings_type: type[PlatformSettings],
    create_app: Callable[[Any], FastAPI],
    **overrides: Any,
) -> ServiceFixtures:
    """The fixtures of a service's integration tests, bound in the test module with
    ``settings, app, client, db = service_fixtures("maternity", MaternitySettings, create_app)``:

    - ``settings`` (module): the service's settings on a throwaway database of its own, on the
      test run's PostgreSQL server and broker, with ``overrides``;
    - ``app`` (module): the app with its lifespan run (database migrated);
    - ``client`` (test): an HTTP client of the app;
    - ``db`` (test): a connection to the service's database.
    """

    @pytest.fixture(scope="module", name="settings")
    async def settings_fixture(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Any]:
        async with throwaway_database(database_url, service) as name:
            yield settings_type(
                database_url=database_url,
                database_name=name,
                kafka_bootstrap=kafka_bootstrap,
                **overrides,
            )

    @pytest.fixture(scope="module", name="app")
    async def app_fixture(settings: PlatformSettings) -> AsyncIterator[FastAPI]:
        async with running(create_app(settings)) as app:
            yield app

    @pytest.fixture(name="client")
    async def client_fixture(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with client_of(app, service) as client:
            yield client

    @pytest.fixture(name="db")
    async def db_fixture(settings: PlatformSettings) -> AsyncIterator[asyncpg.Connection]:
        conn = await connect(settings.database_dsn)
        yield conn
        await conn.close()

    return ServiceFixtures(settings_fixture, app_fixture, client_fixture, db_fixture)


async def without_token(
    client: httpx.AsyncClient, method: str, url: str, **options: Any
) -> httpx.Response:
    """The request as a caller with no bearer token would send it."""
    request = client.build_request(method, url, **options)
    del request.headers["Authorization"]
    return await client.send(request)
