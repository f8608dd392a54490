"""Settings of the chronic-disease service (env prefix ``CHS_``)."""
from pydantic import Field

from chs_events.settings import PlatformSettings


class ChronicSettings(PlatformSettings):
    service_name: str = "chronic"
    database_name: str = "chs_chronic"
    http_port: int = 8104

    expiry_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the consume worker ends certifications "
                                        "whose validity ran out (CHS_EXPIRY_INTERVAL_SECONDS)")
    expiry_batch: int = Field(default=200, gt=0, description="Certifications ended per sweep")
