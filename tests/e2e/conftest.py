"""One running platform for the end-to-end tests: every process of the Procfile as a real
subprocess, on the shared broker and database server, with its own topic prefix and databases."""

import asyncio
import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.settings import dsn_for_database
from tests.support.broker import delete_topics
from tests.support.platform import Platform
from tests.support.tokens import bearer

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


class EnrollmentCallers(httpx.AsyncClient):
    """The enrollment API as the callers the e2e modules act for, chosen by route unless a
    request names its own token: the contribution collection system records contributions, a
    Qingdao hospital enrolls newborns, the admin registers employers (X-Admin-Token), an
    employer changes its own staff (its X-API-Key, which the modules send, is used first), a
    person reads their own record, and an agency of the whole province (370000) registers and
    enrolls persons."""

    def build_request(self, method: str, url: Any, **options: Any) -> httpx.Request:
        request = super().build_request(method, url, **options)
        if "authorization" not in request.headers:
            request.headers.update(_enrollment_caller(request.method, request.url.path))
        return request


def _enrollment_caller(method: str, path: str) -> dict[str, str]:
    parts = path.strip("/").split("/")
    if parts[0] == "contributions":
        return bearer("enrollment", kind="collector")
    if parts[0] == "newborns":
        return bearer("enrollment", kind="institution")
    if parts[0] == "employers":
        if len(parts) == 1:
            return bearer("enrollment", kind="admin")
        return bearer("enrollment", kind="employer", employer_id=parts[1])
    if parts[0] == "persons" and len(parts) == 2 and method == "GET":
        # the person themself: after a transfer out of the province no agency of 370000 may
        return bearer("enrollment", kind="person", person_id=parts[1])
    return bearer("enrollment", kind="agency", region="370000")


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
