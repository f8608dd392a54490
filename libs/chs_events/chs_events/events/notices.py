"""Notice requests (to notification) and message status (from notification)."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import NOTICE_PREFERENCES, NOTICE_REQUESTS, NOTICE_STATUS

# Never change it: a redelivered source event must yield the notice id it yielded before, and
# notification sends one SMS per notice id.
NOTICE_NAMESPACE = uuid.UUID("6f0b6c1e-3d64-5b7a-9a52-2c1c4c0e9d31")

NoticeCategory = Literal["broadcast", "business_result", "account", "push"]


def notice_id(source_event_id: str, template_id: str, recipient: str) -> str:
    """The same source event, template and recipient always give the same notice id."""
    return str(uuid.uuid5(NOTICE_NAMESPACE, f"{source_event_id}:{template_id}:{recipient}"))


@register
class NoticeRequested(Event):
    """Ask notification to tell a person something. ``person_id`` is the recipient."""

    ce_type = "chs.notices.requested.v1"
    topic = NOTICE_REQUESTS
    producer = "processors"

    notice_id: str = Field(description="Deterministic; notification sends one SMS per notice id")
    template_id: str
    params: dict[str, str]
    category: NoticeCategory
    priority: Literal["high", "normal", "low"] = "normal"

    @classmethod
    def caused_by(
        cls,
        source_event_id: str,
        template_id: str,
        recipient: str,
        params: dict[str, str],
        *,
        category: str,
        priority: str,
    ) -> "NoticeRequested":
        """The notice a processor asks for on a source event: its id ``notice_id(source event,
        template, recipient)``, the same whenever the event is processed again (``category``
        and ``priority`` validated as the fields)."""
        return cls(
            person_id=recipient,
            notice_id=notice_id(source_event_id, template_id, recipient),
            template_id=template_id,
            params=params,
            category=category,
            priority=priority,
        )


class NoticeStatusChanged(Event):
    topic = NOTICE_STATUS
    producer = "notification"

    notice_id: str
    message_id: str
    template_id: str
    status: Literal["sent", "delivered", "failed", "undeliverable", "opted_out", "capped"]
    sender: str | None = None
    reason: str | None = None
    at: datetime


@register
class NoticeSent(NoticeStatusChanged):
    ce_type = "chs.notices.sent.v1"


@register
class NoticeDelivered(NoticeStatusChanged):
    ce_type = "chs.notices.delivered.v1"


@register
class NoticeFailed(NoticeStatusChanged):
    ce_type = "chs.notices.failed.v1"


@register
class NoticeUndeliverable(NoticeStatusChanged):
    ce_type = "chs.notices.undeliverable.v1"


@register
class NoticeOptedOut(NoticeStatusChanged):
    """A push or broadcast not sent: its person opted out (service messages always go)."""

    ce_type = "chs.notices.opted-out.v1"


@register
class NoticeCapped(NoticeStatusChanged):
    """A push or broadcast not sent: its person had the category's cap of the day or month."""

    ce_type = "chs.notices.capped.v1"


@register
class PushPreferenceChanged(Event):
    """A person opted out of push and broadcast (``opted_out``), or back in. Business results
    and account notices are service messages and still flow."""

    ce_type = "chs.notices.push-preference.changed.v1"
    topic = NOTICE_PREFERENCES
    producer = "notification"

    opted_out: bool
    via: Literal["sms_reply", "app"] = Field(description="a TD reply, or the public app")
    at: datetime
