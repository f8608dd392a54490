"""Notices for the outpatient chronic / special disease business area (门诊慢特病).

Every result reaches the person: certified (by the rules or a reviewer), auto-certified without
application (免申即享), queued for review, rejected (with the reason), expired or revoked (with
the reason; one granted without application and revoked because its settlement was reversed,
冲正, says so in a template of its own). An
application decided at once records ChronicApplied and its result together: only the result
is told. ``name`` is filled by notification from its contact directory.
"""

from collections.abc import Mapping
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.chronic import (
    CHRONIC_REVOCATION_REASONS,
    SETTLEMENT_REVERSED,
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
)
from chs_progress_notices.rules.model import NoticeSpec, Rule

CERTIFIED = "chronic.certified"
AUTO_CERTIFIED = "chronic.auto_certified"
PENDING_REVIEW = "chronic.pending_review"
REJECTED = "chronic.rejected"
EXPIRED = "chronic.expired"
REVOKED = "chronic.revoked"
AUTO_REVOKED = "chronic.auto_revoked"

# An application whose diagnoses name no single condition reads "门诊慢特病…申请" without a name.
UNNAMED = ""

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        template: frozenset({"name"})
        for template in (
            CERTIFIED,
            AUTO_CERTIFIED,
            PENDING_REVIEW,
            REJECTED,
            EXPIRED,
            REVOKED,
            AUTO_REVOKED,
        )
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        CERTIFIED: frozenset({"condition_name", "valid_from", "valid_until"}),
        AUTO_CERTIFIED: frozenset(
            {"discharge_date", "institution_name", "condition_name", "valid_until"}
        ),
        PENDING_REVIEW: frozenset({"institution_name", "condition_name"}),
        REJECTED: frozenset({"condition_name", "reason"}),
        EXPIRED: frozenset({"condition_name", "ended_on"}),
        REVOKED: frozenset({"condition_name", "ended_on", "reason"}),
        AUTO_REVOKED: frozenset({"condition_name", "ended_on"}),
    }
)


def _quoted(name: str | None) -> str:
    return f"“{name}”" if name else UNNAMED


def _applied(event: ChronicApplied) -> list[NoticeSpec]:
    if event.status != "pending_review":
        return []  # decided at once: the result event tells it
    return [
        (
            PENDING_REVIEW,
            event.person_id,
            {
                "institution_name": event.institution_name,
                "condition_name": _quoted(event.condition_name),
            },
        )
    ]


def _certified(event: ChronicCertified) -> list[NoticeSpec]:
    if event.source == "auto":
        return [
            (
                AUTO_CERTIFIED,
                event.person_id,
                {
                    "discharge_date": event.valid_from.isoformat(),
                    "institution_name": event.institution_name,
                    "condition_name": event.condition_name,
                    "valid_until": event.valid_until.isoformat(),
                },
            )
        ]
    return [
        (
            CERTIFIED,
            event.person_id,
            {
                "condition_name": event.condition_name,
                "valid_from": event.valid_from.isoformat(),
                "valid_until": event.valid_until.isoformat(),
            },
        )
    ]


def _rejected(event: ChronicRejected) -> list[NoticeSpec]:
    return [
        (
            REJECTED,
            event.person_id,
            {
                "condition_name": _quoted(event.condition_name),
                "reason": event.reason,
            },
        )
    ]


def _revoked(event: ChronicRevoked) -> list[NoticeSpec]:
    if event.reason == "expired":
        return [
            (
                EXPIRED,
                event.person_id,
                {
                    "condition_name": event.condition_name,
                    "ended_on": event.ended_on.isoformat(),
                },
            )
        ]
    if event.revocation_code == SETTLEMENT_REVERSED:
        return [
            (
                AUTO_REVOKED,
                event.person_id,
                {"condition_name": event.condition_name, "ended_on": event.ended_on.isoformat()},
            )
        ]
    return [
        (
            REVOKED,
            event.person_id,
            {
                "condition_name": event.condition_name,
                "ended_on": event.ended_on.isoformat(),
                "reason": (
                    CHRONIC_REVOCATION_REASONS[event.revocation_code]
                    if event.revocation_code
                    else "经办机构复核"
                ),
            },
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    ChronicApplied: _applied,
    ChronicCertified: _certified,
    ChronicRejected: _rejected,
    ChronicRevoked: _revoked,
}
