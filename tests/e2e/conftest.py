"""One running platform for the end-to-end tests: every process of the Procfile as a real
subprocess, on the shared broker and database server, with its own topic prefix and databases."""

import asyncio
import random
import re
from pathlib import Path

import asyncpg
import pytest

from chs_events.admin import delete_topics, ensure_topics
from chs_events.settings import dsn_for_database
from tests.support.platform import Platform
from tests.support.tokens import EnrollmentCallers

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
# The dispatcher's line per SMS (with the masked mobile) is at DEBUG: the masking test reads it.
DEBUG_LOGS = {"notification-dispatch": {"CHS_LOG_LEVEL": "DEBUG"}}
PROCESS_LINE = re.compile(r"^(?P<name>[\w-]+):.*python -m (?P<module>chs_\w+) (?P<command>\w+)")


def procfile_processes() -> list[tuple[str, str, str, str]]:
    """(name, module, command, service) for every process `make up` runs."""
    processes = []
    for line in PROCFILE.read_text(encoding="utf-8").splitlines():
        if match := PROCESS_LINE.match(line):
            module = match["module"]
            processes.append((match["name"], module, match["command"], module.removeprefix("chs_")))
    return processes


@pytest.fixture(scope="session")
def platform(kafka_bootstrap, database_url):
    platform = Platform(kafka_bootstrap, database_url)
    asyncio.run(ensure_topics(kafka_bootstrap, platform.prefix))
    for name, module, command, service in procfile_processes():
        platform.add(name, module, command, service, **DEBUG_LOGS.get(name, {}))
    platform.start()
    try:
        platform.wait_ready()
        yield platform
    finally:
        platform.stop()
        asyncio.run(_drop_databases(platform, database_url))
        asyncio.run(delete_topics(kafka_bootstrap, platform.prefix))


async def _drop_databases(platform: Platform, database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for service in {process[3] for process in procfile_processes()}:
            await conn.execute(
                f'drop database if exists "{platform.database_name(service)}" with (force)'
            )
    finally:
        await conn.close()


@pytest.fixture
async def enrollment(platform):
    """Callers by route (EnrollmentCallers): registrations and resident enrollments by an
    agency of the whole province, reads by the person."""
    async with EnrollmentCallers(base_url=platform.url("enrollment"), timeout=10) as client:
        yield client


@pytest.fixture
async def notification(platform):
    """The admin, who may read any person's messages."""
    async with platform.client("notification", kind="admin") as client:
        yield client


@pytest.fixture
async def notification_db(platform):
    conn = await asyncpg.connect(
        dsn_for_database(platform.database_url, platform.database_name("notification"))
    )
    yield conn
    await conn.close()


@pytest.fixture
async def accounts(platform):
    """An agency window of Shandong (it serves the province's accounts)."""
    async with platform.client("accounts", kind="agency") as client:
        yield client


@pytest.fixture
async def pharmacy(platform):
    """A pharmacy's settlement window, under its own merchant code."""
    async with platform.client("accounts", kind="merchant", merchant_code="P370200001") as client:
        yield client


@pytest.fixture
def rng():
    """A random source of its own for each test (its people, ids and amounts)."""
    return random.Random()
