"""Test infrastructure: markers by folder, and the Kafka broker and PostgreSQL server that
integration and e2e tests run against.

The stack fixtures live for the whole test run and are lazy: only a test that requests them
(directly or through another fixture) starts anything, so `pytest -m unit` needs neither Kafka
nor PostgreSQL.

Where each part of the stack comes from, first match wins:

1. ``CHS_KAFKA_BOOTSTRAP`` / ``CHS_DATABASE_URL`` when set: a broker / server provided from outside.
2. testcontainers when a Docker engine answers (``docker info``): ``apache/kafka`` in KRaft
   combined mode (same version as deploy/kafka/pom.xml) and ``postgres:15``.
3. The native stack: ``deploy/local/kafka.sh start`` and ``deploy/local/postgres.sh start``. What
   the test run started, it stops at the end; what was already running is left running.

``CHS_TEST_STACK=native`` or ``CHS_TEST_STACK=docker`` forces the choice between 2 and 3.
Whatever the source, the test run exports ``CHS_KAFKA_BOOTSTRAP`` / ``CHS_DATABASE_URL`` so that
processes started by tests find the same stack.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent
DEPLOY_LOCAL = REPO / "deploy" / "local"
FOLDER_MARKERS = ("unit", "integration", "e2e")


# --- markers ------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by its folder (tests/unit -> unit, ...) before `-m` selects."""
    for item in items:
        try:
            folder = item.path.relative_to(TESTS_DIR).parts[0]
        except (ValueError, IndexError):
            continue
        if folder in FOLDER_MARKERS and item.get_closest_marker(folder) is None:
            item.add_marker(getattr(pytest.mark, folder))


# --- where the stack comes from -------------------------------------------------------------------


@cache
def _use_docker() -> bool:
    forced = os.environ.get("CHS_TEST_STACK", "").strip().lower()
    if forced in ("native", "docker"):
        return forced == "docker"
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _kafka_version() -> str:
    pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text()
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    assert match, "no <kafka.version> in deploy/kafka/pom.xml"
    return match.group(1).strip()


def _script(name: str, action: str) -> subprocess.CompletedProcess[str]:
    """Run deploy/local/<name> <action>. CHS_DATABASE_URL is never passed on: postgres.sh leaves
    the database alone when it is set, and this test run may have exported it itself."""
    env = {k: v for k, v in os.environ.items() if k != "CHS_DATABASE_URL"}
    return subprocess.run(
        [str(DEPLOY_LOCAL / name), action],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


@contextmanager
def _native(name: str) -> Iterator[None]:
    """Start a native service for the test run unless it already runs; stop it afterwards only
    if this run started it."""
    started = False
    if _script(name, "status").returncode != 0:
        result = _script(name, "start")
        if result.returncode != 0:
            pytest.fail(
                f"deploy/local/{name} start failed:\n{result.stdout}{result.stderr}", pytrace=False
            )
        started = True
    try:
        yield
    finally:
        if started:
            result = _script(name, "stop")
            if result.returncode != 0:
                print(f"deploy/local/{name} stop failed:\n{result.stdout}{result.stderr}")


class NativeServers:
    """The servers of deploy/local this run uses, which a test may stop and start again (the
    broker and the database server restarting under the platform)."""

    def __init__(self) -> None:
        self.scripts: set[str] = set()

    def stop(self, script: str) -> None:
        self._run(script, "stop")

    def start(self, script: str) -> None:
        self._run(script, "start")

    def _run(self, script: str, action: str) -> None:
        if script not in self.scripts:
            pytest.skip(f"{script} does not manage this run's server (it was given from outside)")
        result = _script(script, action)
        if result.returncode != 0:
            pytest.fail(f"deploy/local/{script} {action} failed:\n{result.stdout}{result.stderr}")


NATIVE_SERVERS = NativeServers()


class _Exported:
    """Sets an environment variable for the test run and restores the previous value after."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value, self.previous = name, value, os.environ.get(name)

    def __enter__(self) -> str:
        os.environ[self.name] = self.value
        return self.value

    def __exit__(self, *exc: object) -> None:
        if self.previous is None:
            os.environ.pop(self.name, None)
        else:
            os.environ[self.name] = self.previous


def _kafka_container():
    from testcontainers.community.kafka import KafkaContainer

    class ApacheKafkaContainer(KafkaContainer):
        """apache/kafka in KRaft combined mode (testcontainers' KafkaContainer drives only
        Confluent images). Clients use the PLAINTEXT listener on the mapped port."""

        def configure(self) -> None:
            self.wait_for = re.compile(r".*Kafka Server started.*")
            settings = {
                "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": (
                    f"PLAINTEXT://0.0.0.0:{self.port},BROKER://0.0.0.0:9092,"
                    "CONTROLLER://0.0.0.0:9094"
                ),
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
                    "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"
                ),
                "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9094",
                "KAFKA_NUM_PARTITIONS": "3",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
                "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
                "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            }
            for key, value in settings.items():
                self.with_env(key, value)

        def tc_start(self) -> None:
            # The advertised address is known only once the port is mapped: the container waits
            # for this script, which exports it and runs the image's own entry point.
            host = self.get_container_host_ip()
            port = self.get_exposed_port(self.port)
            script = (
                "#!/bin/sh\n"
                f"export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{host}:{port},"
                "BROKER://$(hostname -i | cut -d' ' -f1):9092\n"
                "exec /etc/kafka/docker/run\n"
            )
            self.create_file(script.encode(), self.TC_START_SCRIPT)

    return ApacheKafkaContainer(f"apache/kafka:{_kafka_version()}")


def _postgres_container():
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        "postgres:15", username="chs", password="chs", dbname="postgres", driver=None
    )
    container.with_command("postgres -c max_connections=300 -c fsync=off -c synchronous_commit=off")
    return container


# --- access tokens ------------------------------------------------------------------------------


def pytest_sessionstart(session: pytest.Session) -> None:
    """Settings built by tests, and processes started by them, accept the tokens of
    tests/support/tokens.py (signed with this run's key, verified like the provider's)."""
    from tests.support.tokens import export_test_issuer

    export_test_issuer()


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """bootstrap.servers of a running Kafka broker (host:port), for the whole test run."""
    given = os.environ.get("CHS_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    if _use_docker():
        container = _kafka_container()
        container.start(timeout=180)
        try:
            with _Exported("CHS_KAFKA_BOOTSTRAP", container.get_bootstrap_server()) as bootstrap:
                yield bootstrap
        finally:
            container.stop()
        return
    port = os.environ.get("CHS_KAFKA_PORT", "19092")
    NATIVE_SERVERS.scripts.add("kafka.sh")
    with _native("kafka.sh"), _Exported("CHS_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a PostgreSQL server (its `postgres` database) where the role may create databases;
    tests create their own databases on it."""
    given = os.environ.get("CHS_DATABASE_URL")
    if given:
        yield given
        return
    if _use_docker():
        container = _postgres_container()
        container.start()
        try:
            with _Exported("CHS_DATABASE_URL", container.get_connection_url()) as url:
                yield url
        finally:
            container.stop()
        return
    port = os.environ.get("CHS_PG_PORT", "15432")
    url = f"postgresql://chs@127.0.0.1:{port}/postgres"
    NATIVE_SERVERS.scripts.add("postgres.sh")
    with _native("postgres.sh"), _Exported("CHS_DATABASE_URL", url):
        yield url


@pytest.fixture(scope="session")
def keycloak_issuer() -> Iterator[str]:
    """Issuer URL of the realm `chs` on a running Keycloak (``http://127.0.0.1:18080/realms/chs``),
    for the whole test run: ``CHS_KEYCLOAK_URL`` when set (the issuer, or the server's base URL,
    to which ``/realms/chs`` is added), else the native server of ``deploy/local/keycloak.sh``
    (started if needed, and then stopped at the end; there is no container variant)."""
    given = os.environ.get("CHS_KEYCLOAK_URL")
    if given:
        given = given.rstrip("/")
        yield given if "/realms/" in given else f"{given}/realms/chs"
        return
    issuer = _script("keycloak.sh", "url").stdout.strip()
    with _native("keycloak.sh"), _Exported("CHS_KEYCLOAK_URL", issuer):
        yield issuer


@pytest.fixture(scope="session")
def native_servers(kafka_bootstrap: str, database_url: str) -> NativeServers:
    return NATIVE_SERVERS


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str):
    """A fresh topic-name prefix such as ``t1a2b3c4d.``, so that tests never share topics; the
    topics made with it are deleted afterwards, so a long-lived broker does not fill up."""
    from chs_events.admin import delete_topics

    prefix = f"t{secrets.token_hex(4)}."
    yield prefix
    await delete_topics(kafka_bootstrap, prefix)
