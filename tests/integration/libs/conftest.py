import uuid
from importlib.resources import files

import asyncpg
import pytest

from chs_events.admin import ensure_topics
from chs_events.db import create_pool, ensure_database, migrate
from chs_events.settings import PlatformSettings, dsn_for_database
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS, dead_letter_spec


@pytest.fixture
async def database(database_url):
    """A fresh database with the library's tables, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    await ensure_database(database_url, name)
    dsn = dsn_for_database(database_url, name)
    pool = await create_pool(dsn, max_size=5)
    async with pool.acquire() as conn:
        await migrate(conn, [("chs_events", files("chs_events") / "migrations")])
    yield dsn, pool
    await pool.close()
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'drop database "{name}" with (force)')
    await admin.close()


@pytest.fixture
async def settings(kafka_bootstrap, database_url, topic_prefix):
    spec = BY_NAME[ENROLLMENT_EVENTS]
    await ensure_topics(kafka_bootstrap, topic_prefix, [spec, dead_letter_spec(spec)])
    return PlatformSettings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        topic_prefix=topic_prefix,
        service_name="test",
    )
