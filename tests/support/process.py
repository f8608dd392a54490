"""A service's process (a worker, a stream processor) run for a test, and its JSON log."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self


@dataclass
class Spawned:
    popen: subprocess.Popen
    log: Path
    spawned: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls,
        argv: list[str],
        log: Path,
        *,
        pythonpath: str,
        kafka_bootstrap: str,
        topic_prefix: str,
        data_dir: Path,
        **env: str,
    ) -> Self:
        """``python -m <argv>`` against the broker's topics of ``topic_prefix``, its output (the
        INFO log, JSON lines) written to ``log``; ``env`` adds to or overrides its settings."""
        environment = {
            **os.environ,
            "PYTHONPATH": pythonpath,
            "CHS_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "CHS_TOPIC_PREFIX": topic_prefix,
            "CHS_DATA_DIR": str(data_dir),
            "CHS_LOG_LEVEL": "INFO",
            **env,
        }
        with open(log, "wb") as output:
            popen = subprocess.Popen(
                [sys.executable, "-m", *argv],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return cls(popen, log)

    def lines(self) -> list[dict]:
        """The log so far, a dict a line (``{"message": line}`` for one not JSON)."""
        entries = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append({"message": line})
        return entries

    def wait_for(self, found: Callable[[dict], bool], what: str, timeout: float) -> dict:
        """The first log entry that ``found`` accepts; fails when the process exits first or
        ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.lines():
                if found(entry):
                    return entry
            assert self.popen.poll() is None, f"exited before {what}:\n{self.log.read_text()}"
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {timeout} s:\n{self.log.read_text()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
