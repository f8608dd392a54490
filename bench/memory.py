"""Resident memory at rest of each process of the Procfile, against baselines in the same run.

    python bench/memory.py [--only enrollment-api,fraud-processor] [--env MALLOC_ARENA_MAX=2]

Each line of the Procfile is started alone (``python -m <module> <command>``) on the local
Kafka, PostgreSQL and Keycloak, with a topic prefix of its own (``bench-mem-<hex>.``, the topics
created first and deleted after), its own databases (``bench_mem_<hex>_<service>``, dropped after),
an HTTP port in 8400–8499 (an API) or a metrics port in 9400–9499 (the others). Once it is
ready (an API's ``/readyz`` answers 200, another process's ``/metrics`` answers, the fraud
processor has logged ``state recovered``) and then at rest (its VmRSS moved less than 0.5 MiB
over the last ``--settle`` seconds), VmRSS, RssAnon and RssFile are read from
``/proc/PID/status`` and the process is stopped (SIGTERM). Two baselines run the same way in
the same run: a bare idle ``asyncio`` process, and one idle with only the third-party stack
imported (fastapi, pydantic, asyncpg, aiokafka, prometheus_client, orjson).

Printed: per line its memory and the ratio to the stack baseline; the total of the Procfile's
mix (every line once), against the goal (1.5 GiB) and against as many bare / stack baseline
processes. ``--only`` measures some lines; the total then counts each line not measured as
the measured line of the same command (an ``api`` as the APIs measured, ...), marked
"estimated". ``--env NAME=VALUE`` adds to every measured process's environment (the baselines
too), to compare e.g. ``MALLOC_ARENA_MAX``.
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

from chs_events.admin import delete_topics, sync_topics
from chs_events.settings import PlatformSettings

REPO = Path(__file__).resolve().parents[1]
HTTP_PORTS = range(8400, 8500)
METRICS_PORTS = range(9400, 9500)
GOAL_MIB = 1.5 * 1024
ATTEMPTS = 3
STACK = ("fastapi", "pydantic", "asyncpg", "aiokafka", "prometheus_client", "orjson")
IDLE = "asyncio.run(asyncio.Event().wait())"
PROCFILE_LINE = re.compile(r"^(?P<name>[\w-]+):.*\bexec python -m (?P<module>\S+) (?P<command>\S+)")


@dataclass(frozen=True)
class Line:
    """One process of the Procfile (or a baseline: ``argv`` given)."""

    name: str
    module: str = ""
    command: str = ""
    argv: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        return self.module.removeprefix("chs_")

    @property
    def kind(self) -> str:
        """What the process is: ``api``, ``worker``, ``dispatch``, ``processor`` (faust) or
        ``notices`` (progress-notices, faust too)."""
        return "notices" if self.module == "chs_progress_notices" else self.command


@dataclass
class Reading:
    line: Line
    rss: float  # MiB
    anon: float
    file: float
    threads: int
    seconds: float  # from start to at rest
    samples: list[float] = field(default_factory=list, repr=False)


def procfile(path: Path) -> list[Line]:
    lines = []
    for text in path.read_text().splitlines():
        if (match := PROCFILE_LINE.match(text)) is not None:
            lines.append(Line(match["name"], match["module"], match["command"]))
    return lines


def status(pid: int) -> dict[str, str]:
    fields = {}
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = text.partition(":")
        fields[key] = value.strip()
    return fields


def mib(value: str) -> float:
    return int(value.split()[0]) / 1024  # "123456 kB"


class Started:
    """A process of ``line`` with its own ports, prefix and databases; its log in ``log``."""

    def __init__(
        self, line: Line, *, prefix: str, port: int, work: Path, extra: dict[str, str]
    ) -> None:
        self.line, self.port = line, port
        self.log = work / f"{line.name}.log"
        env = {
            **os.environ,
            "CHS_TOPIC_PREFIX": prefix,
            "CHS_LOG_LEVEL": "INFO",
            **extra,
        }
        if line.module:
            env["CHS_DATABASE_NAME"] = f"{database_prefix(prefix)}_{line.service}"
            env["CHS_DATA_DIR"] = str(work / f"{line.name}-data")
            if line.command == "api":
                env["CHS_HTTP_PORT"] = str(port)
            else:
                env["CHS_METRICS_PORT"] = str(port)
            argv = [sys.executable, "-m", line.module, line.command]
        else:
            argv = [sys.executable, *line.argv]
        with open(self.log, "wb") as output:  # the child keeps its own copy
            self.popen = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.line.name} exited with {self.popen.returncode}:\n{tail}")

    def ready(self) -> bool:
        if not self.line.module:
            return time.monotonic() - self.started > 1
        if self.line.command == "api":
            url = f"http://127.0.0.1:{self.port}/readyz"
        else:
            url = f"http://127.0.0.1:{self.port}/metrics"
        try:
            answered = httpx.get(url, timeout=2, trust_env=False).status_code == 200
        except httpx.TransportError:
            return False
        if answered and self.line.command == "processor":
            return '"state recovered"' in self.log.read_text(errors="replace")
        return answered

    def at_rest(self, settle: float, timeout: float) -> Reading:
        deadline = time.monotonic() + timeout
        while not self.ready():
            self.alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.line.name} not ready; see {self.log}")
            time.sleep(0.3)
        window = max(2, int(settle / 0.5))
        samples: list[float] = []
        while True:
            self.alive()
            samples.append(mib(status(self.popen.pid)["VmRSS"]))
            recent = samples[-window:]
            if len(recent) == window and max(recent) - min(recent) < 0.5:
                break
            if time.monotonic() > deadline:
                break  # still moving: read it as it is
            time.sleep(0.5)
        now = status(self.popen.pid)
        return Reading(
            self.line,
            rss=mib(now["VmRSS"]),
            anon=mib(now["RssAnon"]),
            file=mib(now["RssFile"]),
            threads=int(now["Threads"]),
            seconds=time.monotonic() - self.started,
            samples=samples,
        )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def until_reachable(timeout: float = 300) -> None:
    """Until the broker and the database server accept connections (and 5 s more)."""
    settings = PlatformSettings()
    host, _, port = settings.kafka_bootstrap.split(",")[0].rpartition(":")
    server = urlsplit(settings.database_url)
    addresses = [(host, int(port)), (server.hostname or "127.0.0.1", server.port or 5432)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for address in addresses:
                socket.create_connection(address, timeout=2).close()
        except OSError:
            time.sleep(2)
            continue
        time.sleep(5)
        return
    raise TimeoutError(f"{addresses} unreachable")


def database_prefix(prefix: str) -> str:
    return prefix.rstrip(".").replace("-", "_")


def baselines() -> list[Line]:
    return [
        Line("(bare asyncio)", argv=("-c", f"import asyncio; {IDLE}")),
        Line("(third-party stack)", argv=("-c", f"import asyncio, {', '.join(STACK)}; {IDLE}")),
    ]


async def clean_up(settings: PlatformSettings, prefix: str) -> None:
    await delete_topics(settings.kafka_bootstrap, prefix)
    conn = await asyncpg.connect(settings.database_url)
    try:
        names = await conn.fetch(
            "select datname from pg_database where datname like $1",
            database_prefix(prefix) + "\\_%",
        )
        for row in names:
            await conn.execute(f'drop database if exists "{row["datname"]}" with (force)')
    finally:
        await conn.close()


def measure(
    lines: list[Line], prefix: str, work: Path, extra: dict[str, str], settle: float
) -> list[Reading]:
    readings = []
    for index, line in enumerate(lines):
        ports = HTTP_PORTS if line.command == "api" else METRICS_PORTS
        for attempt in range(1, ATTEMPTS + 1):
            process = Started(
                line, prefix=prefix, port=ports[index % len(ports)], work=work, extra=extra
            )
            try:
                reading = process.at_rest(settle, timeout=120)
                break
            except (RuntimeError, TimeoutError) as error:
                if attempt == ATTEMPTS:
                    raise
                # The shared broker or database may be restarting: wait for them, start again.
                print(f"  {line.name}: {str(error).splitlines()[0]}; again", flush=True)
                until_reachable()
            finally:
                process.stop()
        print(f"  {line.name:<24} {reading.rss:7.1f} MiB  ({reading.seconds:.0f} s)", flush=True)
        readings.append(reading)
    return readings


def report(readings: list[Reading], bases: list[Reading], every: list[Line]) -> None:
    bare, stack = bases
    print()
    print(
        f"{'process':<24} {'VmRSS MiB':>9} {'RssAnon':>8} {'RssFile':>8} {'threads':>7} "
        f"{'/ stack':>7} {'/ bare':>6}"
    )
    for r in [*bases, *readings]:
        print(
            f"{r.line.name:<24} {r.rss:9.1f} {r.anon:8.1f} {r.file:8.1f} {r.threads:7d} "
            f"{r.rss / stack.rss:7.2f} {r.rss / bare.rss:6.2f}"
        )
    measured = {r.line.name: r for r in readings}
    by_kind: dict[str, list[float]] = {}
    for r in readings:
        by_kind.setdefault(r.line.kind, []).append(r.rss)
    total, estimated = 0.0, 0
    print()
    print(f"{'kind':<10} {'lines':>5} {'MiB each (mean)':>15} {'MiB':>8}")
    for kind in dict.fromkeys(line.kind for line in every):
        of_kind = [line for line in every if line.kind == kind]
        values = [
            measured[line.name].rss if line.name in measured else statistics.mean(by_kind[kind])
            for line in of_kind
            if line.name in measured or kind in by_kind
        ]
        estimated += sum(1 for line in of_kind if line.name not in measured)
        total += sum(values)
        mean = statistics.mean(values) if values else float("nan")
        print(f"{kind:<10} {len(of_kind):5d} {mean:15.1f} {sum(values):8.1f}")
    count = len(every)
    note = f" ({estimated} lines estimated from their kind)" if estimated else ""
    print()
    print(f"the Procfile's {count} processes at rest: {total:,.0f} MiB{note}")
    print(f"  goal {GOAL_MIB:,.0f} MiB: {total / GOAL_MIB:.2f} of it")
    print(
        f"  / {count} bare asyncio processes ({count * bare.rss:,.0f} MiB): "
        f"{total / (count * bare.rss):.2f}"
    )
    print(
        f"  / {count} third-party stack processes ({count * stack.rss:,.0f} MiB): "
        f"{total / (count * stack.rss):.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated Procfile names")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every process")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of stable VmRSS")
    parser.add_argument("--procfile", type=Path, default=REPO / "Procfile")
    options = parser.parse_args()
    extra = dict(item.split("=", 1) for item in options.env)
    every = procfile(options.procfile)
    wanted = {name for name in options.only.split(",") if name}
    unknown = wanted - {line.name for line in every}
    if unknown:
        parser.error(f"not in the Procfile: {', '.join(sorted(unknown))}")
    lines = [line for line in every if not wanted or line.name in wanted]
    settings = PlatformSettings()
    prefix = f"bench-mem-{secrets.token_hex(3)}."
    work = Path(tempfile.mkdtemp(prefix="chs-memory-"))
    print(f"prefix {prefix}, logs in {work}" + (f", with {extra}" if extra else ""), flush=True)
    asyncio.run(sync_topics(settings.kafka_bootstrap, prefix))
    try:
        bases = measure(baselines(), prefix, work, extra, options.settle)
        readings = measure(lines, prefix, work, extra, options.settle)
    finally:
        until_reachable()
        asyncio.run(clean_up(settings, prefix))
    report(readings, bases, every)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
