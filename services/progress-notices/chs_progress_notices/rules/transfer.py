"""Notices for the relationship-transfer business area (关系转移接续).

Each step tells the person: requested, out-confirmed, completed, rejected. A transfer within
the province completes at once (TransferRequested and TransferCompleted together): only the
completion is told, the request notice would arrive with it and say nothing new. Enrollment's
PoolingRegionChanged asks for no notice either: the completion already told the person.
The out-confirmation tells the months paid, not a balance: the ledger moves what it holds when
the transfer completes, and the account's own notices (``rules.account``) tell the amount.
``name`` is filled by notification from its contact directory.
"""

from collections.abc import Mapping
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.transfer import (
    TRANSFER_REJECTION_REASONS,
    TransferCompleted,
    TransferOutConfirmed,
    TransferRejected,
    TransferRequested,
)
from chs_events.regions import region
from chs_events.vocabulary import INSUTYPE_NAMES
from chs_progress_notices.rules.model import NoticeSpec, Rule

REQUESTED = "transfer.requested"
OUT_CONFIRMED = "transfer.out_confirmed"
COMPLETED = "transfer.completed"
REJECTED = "transfer.rejected"

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        REQUESTED: frozenset({"name"}),
        OUT_CONFIRMED: frozenset({"name"}),
        COMPLETED: frozenset({"name"}),
        REJECTED: frozenset({"name"}),
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        REQUESTED: frozenset({"insutype_name", "from_region_name", "to_region_name"}),
        OUT_CONFIRMED: frozenset({"from_region_name", "to_region_name", "contribution_months"}),
        COMPLETED: frozenset(
            {"insutype_name", "from_region_name", "to_region_name", "completed_on"}
        ),
        REJECTED: frozenset({"from_region_name", "to_region_name", "reason"}),
    }
)


def _regions(
    event: TransferRequested | TransferOutConfirmed | TransferCompleted | TransferRejected,
) -> dict[str, str]:
    return {
        "from_region_name": region(event.from_region).name,
        "to_region_name": region(event.to_region).name,
    }


def _requested(event: TransferRequested) -> list[NoticeSpec]:
    if not event.cross_province:
        return []  # completed at once: transfer.completed tells it
    return [
        (
            REQUESTED,
            event.person_id,
            {"insutype_name": INSUTYPE_NAMES[event.insutype], **_regions(event)},
        )
    ]


def _out_confirmed(event: TransferOutConfirmed) -> list[NoticeSpec]:
    return [
        (
            OUT_CONFIRMED,
            event.person_id,
            {**_regions(event), "contribution_months": str(event.contribution_months)},
        )
    ]


def _completed(event: TransferCompleted) -> list[NoticeSpec]:
    return [
        (
            COMPLETED,
            event.person_id,
            {
                "insutype_name": INSUTYPE_NAMES[event.insutype],
                **_regions(event),
                "completed_on": event.completed_on.isoformat(),
            },
        )
    ]


def _rejected(event: TransferRejected) -> list[NoticeSpec]:
    return [
        (
            REJECTED,
            event.person_id,
            {**_regions(event), "reason": TRANSFER_REJECTION_REASONS[event.reason_code]},
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    TransferRequested: _requested,
    TransferOutConfirmed: _out_confirmed,
    TransferCompleted: _completed,
    TransferRejected: _rejected,
}
