"""A person's contact (name, mobile, guardian), on ``chs.enrollment.contacts``.

Only notification reads this topic (its contact directory); the widely read
``chs.enrollment.events`` carries no names or mobiles. The topic is compacted: every record is
the person's whole contact as it now is, so the latest one per person is enough.
"""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from chs_events.events.base import Event, register
from chs_events.topics import ENROLLMENT_CONTACTS


class PendingMobile(BaseModel):
    """A requested mobile change awaiting its one-time code: notification sends the code to
    the new mobile (and nothing else); the change takes effect only when it is confirmed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mobile: str = Field(description="The requested new mobile (11 digits)")
    code: str = Field(pattern=r"^\d{6}$", description="The one-time code to send to it")
    expires_at: datetime = Field(description="Not sent once expired (a replayed record)")


@register
class PersonContact(Event):
    """The person's contact as it now is: on registration, enrollment at birth, a requested
    mobile change (``pending``), a confirmed one (the new ``mobile``) and a verified death
    (``deceased_on``)."""

    ce_type = "chs.enrollment.contact.v1"
    topic = ENROLLMENT_CONTACTS
    producer = "enrollment"

    name: str
    mobile: str | None = Field(description="11-digit mainland mobile; None for a newborn")
    birth_date: date
    guardian_person_id: str | None = Field(
        default=None, description="A newborn's: its messages go to the guardian's mobile"
    )
    pending: PendingMobile | None = None
    deceased_on: date | None = Field(
        default=None,
        description="The date of death once it is verified: notification then sends the "
        "number only what the family must know",
    )
