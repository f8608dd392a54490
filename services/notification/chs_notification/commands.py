"""Commands of the notification service: imperative requests that a handler carries out (the
correlation and causation of the events they cause travel in the unit of work)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from chs_events.commands import Command
from chs_notification.gateway import DeliveryReceipt


@dataclass(frozen=True)
class RegisterContact(Command):
    """A person's name, mobile (none for a newborn) and birth date (PersonRegistered)."""

    person_id: str
    name: str
    mobile: str | None
    birth_date: date
    at: datetime


@dataclass(frozen=True)
class ChangeMobile(Command):
    """A person's new mobile (ContactChanged); the person may not be known yet."""

    person_id: str
    mobile: str
    at: datetime


@dataclass(frozen=True)
class RegisterNewborn(Command):
    """A newborn (NewbornEnrolled): no mobile of its own, its messages go to the guardian's."""

    person_id: str
    name: str
    birth_date: date
    guardian_person_id: str
    at: datetime


@dataclass(frozen=True)
class RequestNotice(Command):
    """Queue the message of a notice (NoticeRequested): one per notice id."""

    notice_id: str
    person_id: str
    template_id: str
    category: str
    priority: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordReceipt(Command):
    """Apply the gateway's delivery receipt to the message it reports on."""

    receipt: DeliveryReceipt
