"""Notices for the maternity business area (生育待遇).

The allowance granted without application (免申即享) or approved on an application, the
application received, the allowance paid; and when the settlement that granted it is reversed
(冲正), the allowance cancelled (not yet paid) or the amount paid to be returned (a recovery
item). ``name`` is filled by notification from its contact directory; amounts read in yuan from
integer fen.
"""

from collections.abc import Mapping
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.maternity import (
    MaternityAllowanceApproved,
    MaternityAllowanceCancelled,
    MaternityAllowancePaid,
    MaternityApplied,
    MaternityRecoveryRaised,
)
from chs_events.vocabulary import yuan
from chs_progress_notices.rules.model import NoticeSpec, Rule

AUTO_APPROVED = "maternity.auto_approved"
APPROVED = "maternity.approved"
APPLIED = "maternity.applied"
PAID = "maternity.paid"
CANCELLED = "maternity.cancelled"
RECOVERY_RAISED = "maternity.recovery_raised"

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        template: frozenset({"name"})
        for template in (AUTO_APPROVED, APPROVED, APPLIED, PAID, CANCELLED, RECOVERY_RAISED)
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        AUTO_APPROVED: frozenset({"event_date", "leave_days", "amount"}),
        APPROVED: frozenset({"leave_days", "amount"}),
        APPLIED: frozenset(),
        PAID: frozenset({"amount", "paid_on"}),
        CANCELLED: frozenset({"event_date", "amount"}),
        RECOVERY_RAISED: frozenset({"event_date", "amount"}),
    }
)


def _applied(event: MaternityApplied) -> list[NoticeSpec]:
    return [(APPLIED, event.person_id, {})]


def _approved(event: MaternityAllowanceApproved) -> list[NoticeSpec]:
    if event.source == "auto":
        return [
            (
                AUTO_APPROVED,
                event.person_id,
                {
                    "event_date": event.event_date.isoformat(),
                    "leave_days": str(event.leave_days),
                    "amount": yuan(event.amount_fen),
                },
            )
        ]
    return [
        (
            APPROVED,
            event.person_id,
            {"leave_days": str(event.leave_days), "amount": yuan(event.amount_fen)},
        )
    ]


def _paid(event: MaternityAllowancePaid) -> list[NoticeSpec]:
    return [
        (
            PAID,
            event.person_id,
            {"amount": yuan(event.amount_fen), "paid_on": event.paid_on.isoformat()},
        )
    ]


def _reversed(event: MaternityAllowanceCancelled | MaternityRecoveryRaised) -> list[NoticeSpec]:
    """The settlement's reversal, told with the birth's day and the amount (nothing the
    reversing hospital wrote)."""
    template = CANCELLED if isinstance(event, MaternityAllowanceCancelled) else RECOVERY_RAISED
    return [
        (
            template,
            event.person_id,
            {"event_date": event.event_date.isoformat(), "amount": yuan(event.amount_fen)},
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    MaternityApplied: _applied,
    MaternityAllowanceApproved: _approved,
    MaternityAllowancePaid: _paid,
    MaternityAllowanceCancelled: _reversed,
    MaternityRecoveryRaised: _reversed,
}
