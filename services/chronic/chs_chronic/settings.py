"""Settings of the chronic-disease service (env prefix ``CHS_``)."""

from pydantic import Field

from chs_events.settings import ExpirySettings


class ChronicSettings(ExpirySettings):
    service_name: str = "chronic"
    database_name: str = "chs_chronic"
    http_port: int = 8104

    expiry_batch_size: int = Field(
        default=200,
        gt=0,
        description="Certifications the expiry job takes per batch (CHS_EXPIRY_BATCH_SIZE)",
    )
