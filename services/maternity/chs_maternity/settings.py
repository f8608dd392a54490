"""Settings of the maternity service (env prefix ``CHS_``)."""

from chs_events.settings import PlatformSettings


class MaternitySettings(PlatformSettings):
    service_name: str = "maternity"
    database_name: str = "chs_maternity"
    http_port: int = 8107
