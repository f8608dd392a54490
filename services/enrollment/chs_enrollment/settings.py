"""Settings of the enrollment service (env prefix ``CHS_``, e.g. ``CHS_ADMIN_TOKEN``)."""

from pydantic import Field, SecretStr

from chs_events.settings import PlatformSettings


class EnrollmentSettings(PlatformSettings):
    service_name: str = "enrollment"
    database_name: str = "chs_enrollment"
    http_port: int = 8101

    admin_token: SecretStr = Field(
        default=SecretStr("local-admin-token"),
        description="Value of the X-Admin-Token header that may register employers "
        "(CHS_ADMIN_TOKEN); set a real secret outside local development",
    )
