"""The contribution API alone (``POST /contributions`` of enrollment-api), against baselines on
the same server stack in the same run.

    python bench/contributions.py [--people 500] [--months 6] [--in-flight 32]

Starts ``python -m chs_enrollment api`` (its own topic prefix, a fresh database, an HTTP port in
8300–8399) and a bare FastAPI app on the same stack (uvicorn, uvloop, httptools, the platform's
pool) whose route does one INSERT per request. Set-up (not measured): a new employer adds
``--people`` fresh employees. Then, ``--in-flight`` requests at a time: ``GET /healthz`` of the API
(no token, no database), the bare one-INSERT route, a month's contribution of each person for
``--months`` months (201, each a new payment; one person's months far apart in the order, so
that no two requests wait for the same person), and the same payments again (200, the
idempotent replay). Printed as a table: requests/s, p50/p99 latency and CPU ms per request of
the server process (from ``/proc``), with the ratios to the one-INSERT route.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.common
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo_support import TAX_COLLECTION

import bench.common
from bench.common import client, employees, token
from chs_events.settings import PlatformSettings, dsn_for_database

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PORTS = range(8300, 8400)
HERE = Path(__file__).resolve()


@dataclass
class Result:
    label: str
    requests: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / self.requests


def free_port(taken: set[int]) -> int:
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port in 8300-8399")


def start(arguments: list[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *arguments], env=environment)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


async def until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited ({process.returncode})")
            try:
                async with http.get(f"{url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


async def drive(
    label: str,
    pid: int,
    in_flight: int,
    calls: list[Callable[[], Awaitable[int]]],
    expected: set[int],
) -> Result:
    latencies: list[float] = []
    failures: list[int] = []
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            status = await call()
            latencies.append(time.perf_counter() - started)
            if status not in expected:
                failures.append(status)

    cpu = process_cpu(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    seconds = time.perf_counter() - started
    result = Result(label, len(calls), seconds, latencies, process_cpu(pid) - cpu)
    if failures:
        print(f"  {label}: {len(failures)} answers not {sorted(expected)}: {failures[:5]}")
    return result


def percentile_ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def print_table(results: list[Result], baseline: Result, in_flight: int) -> None:
    print(
        f"\n{'(' + str(in_flight) + ' in flight)':34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms/req':>10} {'req/s ÷ base':>12} {'CPU ÷ base':>10}"
    )
    print("-" * 94)
    for r in results:
        print(
            f"{r.label:34} {r.rate:7.0f} {percentile_ms(r.latencies, 50):7.1f} "
            f"{percentile_ms(r.latencies, 99):7.1f} {r.cpu_ms:10.2f} "
            f"{r.rate / baseline.rate:12.2f} {r.cpu_ms / baseline.cpu_ms:10.2f}"
        )
    print(f"\n(base: {baseline.label}; CPU is the server process's own, from /proc)")


async def main(people: int, months: int, in_flight: int) -> None:
    ports: set[int] = set()
    api_port, bare_port = free_port(ports), free_port(ports)
    suffix = uuid.uuid4().hex[:8]
    database = f"bench_contrib_{suffix}"
    platform = PlatformSettings()
    environment = {
        **os.environ,
        "CHS_TOPIC_PREFIX": f"bench-contrib-{suffix}.",
        "CHS_DATABASE_NAME": database,
        "CHS_HTTP_PORT": str(api_port),
        "CHS_LOG_LEVEL": "WARNING",
    }
    api = start(["-m", "chs_enrollment", "api"], environment)
    bare = start([str(HERE), "--bare-server", str(bare_port), database], environment)
    api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    try:
        await until_up(api_url, api)
        await until_up(bare_url, bare)
        bench.common.ENROLLMENT = api_url  # employees() posts to it
        async with client() as setup:
            staff = await employees(setup, people)
        collector = token(TAX_COLLECTION)
        headers = {"Authorization": f"Bearer {collector}", "Content-Type": "application/json"}
        periods = [f"2024{m:02d}" for m in range(1, months + 1)]
        bodies = [
            orjson.dumps(
                {
                    "payment_id": f"BENCH-{enrollment_id}-{period}",
                    "enrollment_id": enrollment_id,
                    "period": period,
                    "amount_fen": 96_000,
                    "employer_part_fen": 64_000,
                    "personal_part_fen": 32_000,
                }
            )
            for period in periods  # period-major: one person's months far apart
            for _, enrollment_id in staff
        ]
        connector = aiohttp.TCPConnector(limit=in_flight * 2)
        async with aiohttp.ClientSession(connector=connector) as http:

            def get(url: str) -> Callable[[], Awaitable[int]]:
                async def call() -> int:
                    async with http.get(url) as answer:
                        await answer.read()
                        return answer.status

                return call

            def post(url: str, body: bytes, **extra: Any) -> Callable[[], Awaitable[int]]:
                async def call() -> int:
                    async with http.post(url, data=body, headers=headers, **extra) as answer:
                        await answer.read()
                        return answer.status

                return call

            count = len(bodies)
            warm = [post(f"{bare_url}/rows", b"{}") for _ in range(200)]
            await drive("warm-up", bare.pid, in_flight, warm, {201})
            await drive("warm-up", api.pid, in_flight, [get(f"{api_url}/healthz")] * 200, {200})
            healthz = await drive(
                "GET /healthz (API)", api.pid, in_flight, [get(f"{api_url}/healthz")] * count, {200}
            )
            insert = await drive(
                "bare route, one INSERT",
                bare.pid,
                in_flight,
                [post(f"{bare_url}/rows", b"{}") for _ in range(count)],
                {201},
            )
            created = await drive(
                "POST /contributions (new, 201)",
                api.pid,
                in_flight,
                [post(f"{api_url}/contributions", body) for body in bodies],
                {201},
            )
            replayed = await drive(
                "POST /contributions (again, 200)",
                api.pid,
                in_flight,
                [post(f"{api_url}/contributions", body) for body in bodies],
                {200},
            )
        print_table([healthz, insert, created, replayed], insert, in_flight)
        print(f"({people} people × {months} months = {count} contributions)")
    finally:
        for process in (api, bare):
            process.terminate()
            process.wait(timeout=30)
        conn = await asyncpg.connect(platform.database_url)
        await conn.execute(f'drop database if exists "{database}" with (force)')
        await conn.close()


def bare_server(port: int, database: str) -> None:
    """A FastAPI app on the platform's stack whose one route inserts a row."""
    from contextlib import asynccontextmanager

    import uvicorn
    from fastapi import FastAPI, Request

    from chs_events.db import create_pool, ensure_database

    settings = PlatformSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        await ensure_database(settings.database_url, database)
        app.state.pool = await create_pool(dsn_for_database(settings.database_url, database))
        await app.state.pool.execute(
            "create table if not exists bench_rows (id uuid primary key, body jsonb not null)"
        )
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/rows", status_code=201)
    async def add_row(request: Request) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        async with request.app.state.pool.acquire() as conn:
            await conn.execute(
                "insert into bench_rows values ($1, $2)", row_id, orjson.loads(await request.body())
            )
        return {"id": row_id}

    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop", http="httptools"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-server":
        bare_server(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--in-flight", type=int, default=32)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.months, arguments.in_flight))
