"""Notices for the enrollment business area (参保登记).

The greeting params are filled by notification from its own contact directory, keyed by the
recipient: ``name`` — the recipient's name; ``guardian_name`` (``enrollment.newborn_enrolled``) —
the recipient's name too, since that notice goes to the guardian; ``newborn_name`` — the name of
the person the notice names by id (``REFERENCE_PARAMS``: ``newborn_person_id``). The events carry
no names or mobiles. A mobile change has no rule here: notification, which knows the numbers,
sends its code to the new number and tells the previous one when it takes effect.
"""

from collections.abc import Mapping
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    NewbornEnrolled,
)
from chs_events.regions import region
from chs_events.vocabulary import INSUTYPE_NAMES, yuan
from chs_progress_notices.rules.formatting import period_text
from chs_progress_notices.rules.model import NoticeSpec, Rule

REGISTERED = "enrollment.registered"
TERMINATED = "enrollment.terminated"
NEWBORN_ENROLLED = "enrollment.newborn_enrolled"
CONTRIBUTION_PAID = "enrollment.contribution_paid"

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        REGISTERED: frozenset({"name"}),
        TERMINATED: frozenset({"name"}),
        NEWBORN_ENROLLED: frozenset({"guardian_name", "newborn_name"}),
        CONTRIBUTION_PAID: frozenset({"name"}),
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        REGISTERED: frozenset({"insutype_name", "region_name", "start_date"}),
        TERMINATED: frozenset({"insutype_name", "end_date", "reason"}),
        NEWBORN_ENROLLED: frozenset({"region_name", "start_date"}),
        CONTRIBUTION_PAID: frozenset({"period", "amount_yuan", "insutype_name"}),
    }
)

# Per template, the ids a notice carries for notification to look names up by (not rendered).
REFERENCE_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {NEWBORN_ENROLLED: frozenset({"newborn_person_id"})}
)

TERMINATION_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "left_employer": "用人单位办理减员",
        "moved": "参保关系转出",
        "other": "其他原因",
    }
)


def _registered(event: EnrollmentRegistered) -> list[NoticeSpec]:
    if event.at_birth:
        return []  # the guardian gets the newborn notice; this one would read as her own
    return [
        (
            REGISTERED,
            event.person_id,
            {
                "insutype_name": INSUTYPE_NAMES[event.insutype],
                "region_name": region(event.pooling_region).name,
                "start_date": event.start_date.isoformat(),
            },
        )
    ]


def _terminated(event: EnrollmentTerminated) -> list[NoticeSpec]:
    if event.reason == "death":
        # The recipient has died: a message to their phone helps nobody and hurts the family.
        return []
    return [
        (
            TERMINATED,
            event.person_id,
            {
                "insutype_name": INSUTYPE_NAMES[event.insutype],
                "end_date": event.end_date.isoformat(),
                "reason": TERMINATION_REASONS[event.reason],
            },
        )
    ]


def _newborn(event: NewbornEnrolled) -> list[NoticeSpec]:
    return [
        (
            NEWBORN_ENROLLED,
            event.guardian_person_id,
            {
                "newborn_person_id": event.person_id,
                "region_name": region(event.pooling_region).name,
                "start_date": event.start_date.isoformat(),
            },
        )
    ]


def _contribution(event: ContributionPaid) -> list[NoticeSpec]:
    return [
        (
            CONTRIBUTION_PAID,
            event.person_id,
            {
                "period": period_text(event.period),
                "amount_yuan": yuan(event.amount_fen),
                "insutype_name": INSUTYPE_NAMES[event.insutype],
            },
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    EnrollmentRegistered: _registered,
    EnrollmentTerminated: _terminated,
    NewbornEnrolled: _newborn,
    ContributionPaid: _contribution,
}
