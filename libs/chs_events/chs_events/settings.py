"""Settings from the environment (prefix ``CHS_``), shared by every process of the platform."""

import tempfile
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_PERSON_ID_SECRET = "local-development-secret"
# The realm of the local identity provider that `make up` starts (deploy/keycloak).
DEVELOPMENT_ISSUER = "http://127.0.0.1:18080/realms/chs"


class PlatformSettings(BaseSettings):
    """What every service and processor reads; a service subclasses it to set its own defaults."""

    model_config = SettingsConfigDict(env_prefix="CHS_", extra="ignore")

    service_name: str = "chs"
    kafka_bootstrap: str = "127.0.0.1:19092"
    # The PostgreSQL *server*; each service owns one database on it (``database_name``).
    database_url: str = "postgresql://chs@127.0.0.1:15432/postgres"
    database_name: str = "chs"
    # Prepended to every topic and consumer-group name, so several stacks can share one broker.
    topic_prefix: str = ""
    person_id_secret: SecretStr = SecretStr(DEVELOPMENT_PERSON_ID_SECRET)
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    metrics_port: int | None = None
    # production refuses to start with any development value (``development_values``).
    env: Literal["development", "production"] = "development"
    # The identity provider: who issues access tokens, and where its signing keys are (a URL,
    # by default the issuer's OpenID Connect certs endpoint, or a file).
    token_issuer: str = DEVELOPMENT_ISSUER
    jwks_url: str | None = None
    jwks_file: Path | None = None
    token_leeway_seconds: float = Field(default=30, ge=0, le=300)
    # Parking (chs_events.parking): how long an event may wait for its prerequisite before it
    # goes to its topic's .dlq, and how often a consumer looks for those past it.
    parking_bound_seconds: float = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="How long a parked event waits for its prerequisite before it is "
        "dead-lettered (CHS_PARKING_BOUND_SECONDS)",
    )
    parking_check_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often a consumer dead-letters the parked events past the bound "
        "(CHS_PARKING_CHECK_SECONDS)",
    )

    @model_validator(mode="after")
    def _no_development_values_in_production(self) -> Self:
        if self.env == "production" and (found := self.development_values()):
            raise ValueError(f"CHS_ENV=production with development values: {', '.join(found)}")
        return self

    def development_values(self) -> list[str]:
        """The settings still at a development value (a service adds its own)."""
        found = []
        if self.person_id_secret.get_secret_value() == DEVELOPMENT_PERSON_ID_SECRET:
            found.append("CHS_PERSON_ID_SECRET")
        if self.token_issuer == DEVELOPMENT_ISSUER or (
            self.jwks_url is None and self.jwks_file is None
        ):
            found.append("CHS_TOKEN_ISSUER / CHS_JWKS_URL (the local identity provider)")
        return found

    @property
    def token_audience(self) -> str:
        """What a token's ``aud`` must name for this service to accept it."""
        return f"chs-{self.service_name}"

    @property
    def jwks_location(self) -> str:
        return (
            str(self.jwks_file)
            if self.jwks_file
            else self.jwks_url or (f"{self.token_issuer}/protocol/openid-connect/certs")
        )

    @property
    def ce_source(self) -> str:
        """The CloudEvents ``source`` of the events this service records: ``/chs/<service>``."""
        return f"/chs/{self.service_name}"

    @property
    def database_dsn(self) -> str:
        return dsn_for_database(self.database_url, self.database_name)

    def topic(self, logical_name: str) -> str:
        return f"{self.topic_prefix}{logical_name}"

    def group(self, consumer_name: str) -> str:
        return f"{self.topic_prefix}{consumer_name}"


def dsn_for_database(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


class ExpirySettings(PlatformSettings):
    """Settings of a service whose scheduled job ends what ran out (``chs_events.scheduled``)."""

    expiry_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the expiry job runs (CHS_EXPIRY_INTERVAL_SECONDS)",
    )
    expiry_batch_size: int = Field(
        default=500, gt=0, description="Items ended per transaction (CHS_EXPIRY_BATCH_SIZE)"
    )


class ProcessorSettings(PlatformSettings):
    """A faust processor's settings (environment prefix ``CHS_``), their defaults; a processor
    subclasses it (``service_name``, ``data_dir``, its own). Here, not in ``chs_events.streams``,
    so that the processes of a service without faust (its API) do not import faust."""

    # How long the consumer group waits for a silent worker before moving its partitions on:
    # a killed worker's partitions, and a restarted worker's first assignment, wait this long.
    member_timeout_seconds: float = 10.0
    heartbeat_interval_seconds: float = 3.0
    # How often processed offsets are committed; a crash redelivers at most this much work.
    commit_interval_seconds: float = 2.8
    # Events taken at once: what they cause is published together and acknowledged together.
    batch_size: int = Field(default=500, gt=0)
    # ... and how long a batch fills: 10 ms woke a worker 100 times a second even when idle
    # (43 ms of CPU a second; 10 ms at 0.1 s) and cut a backlog into batches of ~150; a lone
    # event waits this long, a hop's share of the pipeline's latency.
    batch_wait_seconds: float = 0.05
    # Step attempts before an event is dead-lettered, and the first backoff delay.
    max_attempts: int = 4
    retry_base_delay_seconds: float = 0.2
    retry_max_delay_seconds: float = 5.0
    # A RocksDB table's memory, for each partition's database (a table has one per partition):
    # faust's defaults, 64 MiB write buffers (up to 3) and a 2 GiB block cache each, let the
    # fraud processor's two tables over 6 partitions grow to 1.5 GB for half a million people.
    rocksdb_write_buffer_bytes: int = Field(default=8 * 2**20, gt=0)
    rocksdb_block_cache_bytes: int = Field(default=16 * 2**20, gt=0)
    # faust wants a data directory even without tables; keep it out of the working tree.
    data_dir: Path = Path(tempfile.gettempdir()) / "chs-processor"
