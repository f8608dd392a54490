"""Commands of the notification service: imperative requests that a handler carries out (the
correlation and causation of the events they cause travel in the unit of work)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from chs_events.commands import Command
from chs_notification.gateway import DeliveryReceipt


@dataclass(frozen=True)
class PendingMobile:
    """A requested mobile change: its one-time code goes to the new mobile, until it expires."""

    mobile: str
    code: str
    expires_at: datetime


class RecordContact(Command):
    """A person's contact as it now is (PersonContact): name, mobile (none for a newborn, whose
    messages go to the guardian's), birth date, a requested mobile change if any, and the
    date of death once it is verified."""

    person_id: str
    name: str
    mobile: str | None
    birth_date: date
    guardian_person_id: str | None
    at: datetime
    pending: PendingMobile | None = None
    deceased_on: date | None = None


class RequestNotice(Command):
    """Queue the message of a notice (NoticeRequested): one per notice id."""

    notice_id: str
    person_id: str
    template_id: str
    category: str
    priority: str
    params: Mapping[str, str] = field(default_factory=dict)


class RecordReceipt(Command):
    """Apply the gateway's delivery receipt to the message it reports on."""

    receipt: DeliveryReceipt
