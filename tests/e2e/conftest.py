"""One running platform for the end-to-end tests: every process of enrollment, notification and
the progress-notice processor as a real subprocess, on the shared broker and database server,
with its own topic prefix and databases."""
import asyncio

import asyncpg
import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.settings import dsn_for_database
from tests.support.platform import Platform

PROCESSES = [
    ("enrollment-api", "chs_enrollment", "api", "enrollment"),
    ("enrollment-relay", "chs_enrollment", "relay", "enrollment"),
    ("notification-api", "chs_notification", "api", "notification"),
    ("notification-relay", "chs_notification", "relay", "notification"),
    ("notification-consume", "chs_notification", "consume", "notification"),
    ("notification-dispatch", "chs_notification", "dispatch", "notification"),
    ("progress-notices", "chs_progress_notices", "worker", "progress-notices"),
]


@pytest.fixture(scope="session")
def platform(kafka_bootstrap, database_url):
    platform = Platform(kafka_bootstrap, database_url)
    asyncio.run(ensure_topics(kafka_bootstrap, platform.prefix))
    for name, module, command, service in PROCESSES:
        platform.add(name, module, command, service)
    platform.start()
    try:
        platform.wait_ready()
        yield platform
    finally:
        platform.stop()
        asyncio.run(_drop_databases(platform, database_url))


async def _drop_databases(platform: Platform, database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for service in ("enrollment", "notification"):
            await conn.execute(
                f'drop database if exists "{platform.database_name(service)}" with (force)')
    finally:
        await conn.close()


@pytest.fixture
async def enrollment(platform):
    async with httpx.AsyncClient(base_url=platform.url("enrollment"), timeout=10) as client:
        yield client


@pytest.fixture
async def notification(platform):
    async with httpx.AsyncClient(base_url=platform.url("notification"), timeout=10) as client:
        yield client


@pytest.fixture
async def notification_db(platform):
    conn = await asyncpg.connect(dsn_for_database(platform.database_url,
                                                  platform.database_name("notification")))
    yield conn
    await conn.close()
