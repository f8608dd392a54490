"""Commands of the notification service: imperative requests that a handler carries out (the
correlation and causation of the events they cause travel in the unit of work)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

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
    # When it was requested (the request event's time): the rules of its category
    # (``rules``) take it as the moment the message is wanted; None: now.
    requested_at: datetime | None = None


class RecordReceipt(Command):
    """Apply the gateway's delivery receipt to the message it reports on."""

    receipt: DeliveryReceipt


class SetPushPreference(Command):
    """A person opts out of push and broadcast (``opted_out``), or back in: in the app
    (``via="app"``) or by replying TD to an SMS (``via="sms_reply"``)."""

    person_id: str
    opted_out: bool
    via: Literal["sms_reply", "app"]
    at: datetime
