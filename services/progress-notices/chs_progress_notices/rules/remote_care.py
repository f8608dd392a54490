"""Notices for the remote-care business area (异地就医备案).

Every business result reaches the person: filed (= approved at once, 秒备案), revoked, expired.
A refusal is answered to the HTTP request and publishes no event, so it asks for no notice.
``name`` is filled by notification from its contact directory.
"""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.remote_care import (
    CATEGORY_NAMES,
    FILING_TYPE_NAMES,
    RemoteCareExpired,
    RemoteCareFiled,
    RemoteCareRevoked,
)
from chs_events.regions import region
from chs_progress_notices.rules.model import NoticeSpec, Rule

FILED = "remote_care.filed"
REVOKED = "remote_care.revoked"
EXPIRED = "remote_care.expired"


DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        FILED: frozenset({"name"}),
        REVOKED: frozenset({"name"}),
        EXPIRED: frozenset({"name"}),
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        FILED: frozenset({"filing_type_name", "category_name", "destination_name", "validity"}),
        REVOKED: frozenset({"destination_name", "category_name", "revoked_on"}),
        EXPIRED: frozenset({"destination_name", "category_name", "valid_until"}),
    }
)


def validity_text(valid_from: date, valid_until: date | None) -> str:
    """ "自2026-11-22起长期有效" or "2026-11-22至2027-05-21"."""
    if valid_until is None:
        return f"自{valid_from.isoformat()}起长期有效"
    return f"{valid_from.isoformat()}至{valid_until.isoformat()}"


def _filed(event: RemoteCareFiled) -> list[NoticeSpec]:
    return [
        (
            FILED,
            event.person_id,
            {
                "filing_type_name": FILING_TYPE_NAMES[event.filing_type],
                "category_name": CATEGORY_NAMES[event.category],
                "destination_name": region(event.destination_region).name,
                "validity": validity_text(event.valid_from, event.valid_until),
            },
        )
    ]


def _revoked(event: RemoteCareRevoked) -> list[NoticeSpec]:
    return [
        (
            REVOKED,
            event.person_id,
            {
                "destination_name": region(event.destination_region).name,
                "category_name": CATEGORY_NAMES[event.category],
                "revoked_on": event.revoked_on.isoformat(),
            },
        )
    ]


def _expired(event: RemoteCareExpired) -> list[NoticeSpec]:
    assert event.valid_until is not None  # only temporary filings expire
    return [
        (
            EXPIRED,
            event.person_id,
            {
                "destination_name": region(event.destination_region).name,
                "category_name": CATEGORY_NAMES[event.category],
                "valid_until": event.valid_until.isoformat(),
            },
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    RemoteCareFiled: _filed,
    RemoteCareRevoked: _revoked,
    RemoteCareExpired: _expired,
}
