"""Settings of the notification service (env prefix ``CHS_``, e.g. ``CHS_GATEWAY_FAILURE_RATE``)."""

from functools import cache

from pydantic import Field, field_validator

from chs_events.retry import Backoff
from chs_events.settings import PlatformSettings
from chs_notification.domain import HOME_PROVINCE, STILL_SENT_AFTER_DEATH
from chs_notification.templates import UnknownTemplate, get_template


class NotificationSettings(PlatformSettings):
    service_name: str = "notification"
    database_name: str = "chs_notification"
    http_port: int = 8102

    # The local gateway (a stand-in for an SMS provider, for development and tests).
    gateway_failure_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of sends that fail transiently (half of them after the gateway "
        "took the message, as when its reply is lost), to exercise retries",
    )
    gateway_undelivered_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of accepted messages whose delivery receipt says failed",
    )
    gateway_seed: int | None = Field(
        default=None, description="Seed of the local gateway's random draws (reproducible runs)"
    )
    gateway_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A send (a batch's, where the gateway takes batches) that takes longer "
        "counts as a transient failure",
    )

    # GB/T 2260 province whose mobiles get the in-province sender number.
    home_province: str = HOME_PROVINCE

    # The dispatcher.
    dispatch_batch_size: int = Field(default=50, ge=1)
    dispatch_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between polls when no NOTIFY wakes it"
    )
    contact_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long a queued message waits for its recipient's contact before it is "
        "undeliverable; a notice is queued only once the directory has the contact (until then "
        "it is parked, up to CHS_PARKING_BOUND_SECONDS), so this is a backstop",
    )
    still_sent_after_death: tuple[str, ...] = Field(
        default=STILL_SENT_AFTER_DEATH,
        description="Templates still sent to the number of a person whose death is verified "
        "(what the family must know); every other message to it ends undeliverable, with the "
        "reason (CHS_STILL_SENT_AFTER_DEATH, a JSON list of template ids)",
    )
    # A notice parked awaiting its recipient's contact is still worth sending for days.
    parking_bound_seconds: float = Field(default=3 * 24 * 3600, gt=0)
    send_max_attempts: int = Field(default=5, ge=1, description="Sends of a message in all")
    send_retry_base_delay: float = Field(
        default=0.5, gt=0, description="Seconds before the first resend; doubled each time"
    )
    send_retry_max_delay: float = Field(
        default=30.0, gt=0, description="The longest wait between sends (never below the base)"
    )

    @field_validator("still_sent_after_death")
    @classmethod
    def _known_templates(cls, template_ids: tuple[str, ...]) -> tuple[str, ...]:
        for template_id in template_ids:
            try:
                get_template(template_id)
            except UnknownTemplate:
                raise ValueError(f"unknown template {template_id!r}") from None
        return template_ids

    @property
    def send_backoff(self) -> Backoff:
        """The retries of a send (``CHS_SEND_MAX_ATTEMPTS``, ``CHS_SEND_RETRY_BASE_DELAY``,
        ``CHS_SEND_RETRY_MAX_DELAY``)."""
        return Backoff(
            max_attempts=self.send_max_attempts,
            base_delay=self.send_retry_base_delay,
            max_delay=max(self.send_retry_max_delay, self.send_retry_base_delay),
        )


@cache
def still_sent_after_death() -> frozenset[str]:
    """The templates still sent after a death, as the process is configured (``CHS_*``): read
    once, by the consumers' handlers, which take no settings."""
    return frozenset(NotificationSettings().still_sent_after_death)
