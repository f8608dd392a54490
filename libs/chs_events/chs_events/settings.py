"""Settings from the environment (prefix ``CHS_``), shared by every process of the platform."""

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    person_id_secret: SecretStr = SecretStr("local-development-secret")
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    metrics_port: int | None = None

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
