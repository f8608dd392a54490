"""The account-notice processor's clock, on ``chs.account-notices.ticks``: a record it sends to
each partition it owns (co-partitioned with ``chs.account.events``), read by its own agent in
that partition, where it closes the windows of the bursts of small debits that have ended
without a further event of their account. Not about a person: ``person_id`` (the record's key)
is ``partition-<n>``."""

from datetime import datetime

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import ACCOUNT_NOTICES_TICKS


@register
class AccountNoticesTicked(Event):
    ce_type = "chs.account-notices.ticked.v1"
    topic = ACCOUNT_NOTICES_TICKS
    producer = "account-notices"

    partition: int = Field(ge=0, description="The partition it was sent to, and is about")
    at: datetime = Field(description="When it was sent: the windows ended by then are closed")
