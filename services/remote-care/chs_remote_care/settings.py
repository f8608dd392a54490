"""Settings of the remote-care service (env prefix ``CHS_``)."""
from pydantic import Field

from chs_events.settings import PlatformSettings


class RemoteCareSettings(PlatformSettings):
    service_name: str = "remote-care"
    database_name: str = "chs_remote_care"
    http_port: int = 8103

    expire_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the expire worker looks for temporary filings "
                                        "past their validity (CHS_EXPIRE_INTERVAL_SECONDS)")
    expire_batch_size: int = Field(default=500, gt=0, description="Filings expired per transaction")
