"""Settings of the remote-care service (env prefix ``CHS_``); the expiry job's
(``CHS_EXPIRY_INTERVAL_SECONDS``, ``CHS_EXPIRY_BATCH_SIZE``) come from ``ExpirySettings``."""

from chs_events.settings import ExpirySettings


class RemoteCareSettings(ExpirySettings):
    service_name: str = "remote-care"
    database_name: str = "chs_remote_care"
    http_port: int = 8103
