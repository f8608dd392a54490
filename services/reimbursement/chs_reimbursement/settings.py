"""Settings of the reimbursement service (env prefix ``CHS_``)."""

from chs_events.settings import PlatformSettings


class ReimbursementSettings(PlatformSettings):
    service_name: str = "reimbursement"
    database_name: str = "chs_reimbursement"
    http_port: int = 8108
