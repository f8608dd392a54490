"""What the services' integration tests share: a throwaway database on the real server, the
FastAPI app running its lifespan in-process with a client, and the outbox read back as
validated envelopes."""
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI

from chs_events.envelope import Envelope


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
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan run: database opened and migrated, broker probe ready."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_of(app: FastAPI, service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=f"http://{service}") as client:
        yield client


async def outbox_of(conn: asyncpg.Connection, key: str) -> list[Envelope]:
    """The key's outbox rows in order, each parsed and validated as a Kafka record."""
    rows = await conn.fetch(
        "select key, headers, payload from outbox where key = $1 order by position", key)
    return [Envelope.from_record(row["key"].encode(), row["payload"],
                                 [(name, value.encode()) for name, value in row["headers"]])
            for row in rows]


def types(envelopes: list[Envelope]) -> list[str]:
    return [envelope.type for envelope in envelopes]
