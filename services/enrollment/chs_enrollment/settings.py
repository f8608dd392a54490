"""Settings of the enrollment service (env prefix ``CHS_``, e.g. ``CHS_ADMIN_TOKEN``)."""

from pydantic import Field, SecretStr

from chs_events.settings import PlatformSettings

DEVELOPMENT_ADMIN_TOKEN = "local-admin-token"


class EnrollmentSettings(PlatformSettings):
    service_name: str = "enrollment"
    database_name: str = "chs_enrollment"
    http_port: int = 8101

    admin_token: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_ADMIN_TOKEN),
        description="Value of the X-Admin-Token header that may register employers and "
        "designated institutions (CHS_ADMIN_TOKEN); set a real secret outside local development",
    )

    def development_values(self) -> list[str]:
        found = super().development_values()
        if self.admin_token.get_secret_value() == DEVELOPMENT_ADMIN_TOKEN:
            found.append("CHS_ADMIN_TOKEN")
        return found
