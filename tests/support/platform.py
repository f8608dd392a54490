"""The platform's real processes, started as subprocesses for end-to-end tests."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.tokens import bearer

LOG_DIR = Path(__file__).resolve().parents[2] / ".local" / "logs" / "e2e"
STATE_DIR = Path(__file__).resolve().parents[2] / ".local" / "state" / "e2e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    module: str
    command: str
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:  # the child keeps its own copy
            self.popen = subprocess.Popen(
                [sys.executable, "-m", self.module, self.command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log_file(self) -> Path:
        return LOG_DIR / f"{self.env['CHS_TOPIC_PREFIX']}{self.name}.log"

    @property
    def process(self) -> subprocess.Popen:
        assert self.popen is not None, f"{self.name} was not started"
        return self.popen

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush, no commit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Platform:
    kafka_bootstrap: str
    database_url: str
    prefix: str = field(default_factory=lambda: f"e{uuid.uuid4().hex[:8]}.")
    admin_token: str = "e2e-admin-token"
    processes: dict[str, Process] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def database_name(self, service: str) -> str:
        return f"{self.prefix.rstrip('.')}_{service}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def client(self, service: str, **token: Any) -> httpx.AsyncClient:
        """An HTTP client of the service's API with a token for it (``service`` as in ``add``:
        ``remote_care`` is the ``remote-care`` service) of the caller ``token`` describes
        (``kind=`` and claims, tests/support/tokens.py)."""
        return httpx.AsyncClient(
            base_url=self.url(service),
            timeout=10,
            headers=bearer(service.replace("_", "-"), **token),
        )

    def add(self, name: str, module: str, command: str, service: str, **extra: str) -> None:
        env = {
            **os.environ,
            "CHS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CHS_DATABASE_URL": self.database_url,
            "CHS_TOPIC_PREFIX": self.prefix,
            "CHS_DATABASE_NAME": self.database_name(service),
            "CHS_ADMIN_TOKEN": self.admin_token,
            "CHS_LOG_LEVEL": "INFO",
            **extra,
        }
        # A processor's tables (RocksDB) are its own: two instances, or two platforms, on one
        # machine must not share a state directory.
        env.setdefault("CHS_DATA_DIR", str(STATE_DIR / f"{self.prefix}{name}"))
        if command == "api":
            self.ports[service] = free_port()
            env["CHS_HTTP_PORT"] = str(self.ports[service])
        self.processes[name] = Process(name, module, command, env)

    def start(self) -> None:
        for process in self.processes.values():
            process.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for service in self.ports:
            while True:
                try:
                    if httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                self._check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not ready; see {LOG_DIR}")
                time.sleep(0.3)

    def _check_alive(self) -> None:
        for process in self.processes.values():
            if process.process.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited with {process.process.returncode}; see {LOG_DIR}"
                )

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def log_files(self) -> list[Path]:
        return [process.log_file for process in self.processes.values()]

    def restart(self, name: str) -> None:
        self.processes[name].start()

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        for process in self.processes.values():  # the state goes with the platform's topics
            shutil.rmtree(process.env["CHS_DATA_DIR"], ignore_errors=True)
