"""docker-compose.yml runs the same processes as the Procfile (the single source of the
platform's processes and ports): one service per Procfile process, with the same name and the
same ``python -m <package> <role>`` command, and each API published on its Procfile HTTP port.

PyYAML is not a dependency of the platform, so docker-compose.yml is read by a small line parser
that knows only the shapes this file uses: two-space service names under ``services:``, a
``command:`` written as a flow list of double-quoted strings (valid JSON), ``ports:`` as a block
list, ``CHS_HTTP_PORT`` under ``environment:`` and the ``/readyz`` URL of the healthcheck.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PROCFILE = REPO / "Procfile"
COMPOSE = REPO / "docker-compose.yml"

# Compose services that run a platform module but are no Procfile process: `make up` runs the
# topic creation once before honcho starts the Procfile.
ONE_SHOTS = {"topics"}


@dataclass(frozen=True)
class Process:
    name: str
    command: tuple[str, ...]  # ("python", "-m", package, role)
    http_port: int | None  # the CHS_HTTP_PORT default, for an API


@dataclass
class Service:
    name: str
    command: tuple[str, ...] | None = None
    ports: list[str] = field(default_factory=list)
    http_port_env: str | None = None
    health_port: int | None = None


_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_.-]+):\s*(.+)$")
_MODULE = re.compile(r"\bpython\s+-m\s+(\S+)\s+(\S+)")
_HTTP_PORT = re.compile(r"\bCHS_HTTP_PORT=\$\{\w+:-(\d+)\}")


def parse_procfile(text: str) -> dict[str, Process]:
    processes: dict[str, Process] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line)
        assert match, f"unreadable Procfile line: {line!r}"
        name, command = match.groups()
        module = _MODULE.search(command)
        assert module, f"Procfile process {name} does not run `python -m <package> <role>`"
        port = _HTTP_PORT.search(command)
        assert name not in processes, f"Procfile process {name} is listed twice"
        processes[name] = Process(
            name=name,
            command=("python", "-m", *module.groups()),
            http_port=int(port.group(1)) if port else None,
        )
    return processes


_SERVICE = re.compile(r"^  ([A-Za-z0-9_.-]+):\s*(#.*)?$")
_KEY = re.compile(r"^    ([A-Za-z_][A-Za-z0-9_-]*):\s*(.*)$")
_LIST_ITEM = re.compile(r"^      -\s*(.+?)\s*$")
_ENV_HTTP_PORT = re.compile(r"^      CHS_HTTP_PORT:\s*(.+?)\s*$")
_READYZ = re.compile(r"http://127\.0\.0\.1:(\d+)/readyz")


def _unquote(value: str) -> str:
    value = value.split(" #", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_compose_services(text: str) -> dict[str, Service]:
    services: dict[str, Service] = {}
    in_services = False
    service: Service | None = None
    key: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):  # a top-level key
            in_services = line.split("#", 1)[0].strip() == "services:"
            service, key = None, None
            continue
        if not in_services:
            continue
        if match := _SERVICE.match(line):
            service = Service(match.group(1))
            assert service.name not in services, f"compose service {service.name} is listed twice"
            services[service.name] = service
            key = None
            continue
        if service is None:
            continue
        if match := _KEY.match(line):
            key, value = match.groups()
            if key == "command":
                value = value.split(" #", 1)[0].strip()
                assert value.startswith("["), (
                    f"compose service {service.name}: write command as a flow list"
                )
                service.command = tuple(json.loads(value))
            continue
        if key == "ports" and (match := _LIST_ITEM.match(line)):
            service.ports.append(_unquote(match.group(1)))
        elif key == "environment" and (match := _ENV_HTTP_PORT.match(line)):
            service.http_port_env = _unquote(match.group(1))
        elif key == "healthcheck" and (match := _READYZ.search(line)):
            service.health_port = int(match.group(1))
    return services


def _processes() -> dict[str, Process]:
    return parse_procfile(PROCFILE.read_text(encoding="utf-8"))


def _services() -> dict[str, Service]:
    return parse_compose_services(COMPOSE.read_text(encoding="utf-8"))


PROCESSES = _processes()


def test_the_procfile_is_read():
    assert "enrollment-api" in PROCESSES
    assert PROCESSES["enrollment-api"].http_port == 8101
    assert PROCESSES["enrollment-worker"].command == ("python", "-m", "chs_enrollment", "worker")


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_procfile_process_is_a_compose_service_with_the_same_command(name):
    process = PROCESSES[name]
    services = _services()
    assert name in services, (
        f"docker-compose.yml has no service {name} (Procfile: {process.command})"
    )
    assert services[name].command == process.command


@pytest.mark.parametrize("name", sorted(n for n, p in PROCESSES.items() if p.http_port))
def test_every_api_is_published_on_its_procfile_port(name):
    port = PROCESSES[name].http_port
    service = _services().get(name)
    assert service is not None, f"docker-compose.yml has no service {name}"
    assert service.ports == [f"127.0.0.1:{port}:{port}"]
    assert service.http_port_env == str(port)
    assert service.health_port == port, f"{name}: the healthcheck must ask :{port}/readyz"


def test_every_compose_platform_service_is_a_procfile_process():
    services = _services()
    running_a_module = {
        n for n, s in services.items() if s.command and s.command[:2] == ("python", "-m")
    }
    assert running_a_module - ONE_SHOTS - set(PROCESSES) == set()
    assert set(services) >= ONE_SHOTS
