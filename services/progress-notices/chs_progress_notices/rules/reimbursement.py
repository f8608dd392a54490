"""Notices for the reimbursement business area (一站式结算 and 手工报销).

A one-stop settlement tells the split of the total (the funds tier by tier, the personal
account when it paid a part, the cash the person paid); a reversal (冲正) tells which settlement
was undone and why. A manual claim is acknowledged, approved with what the funds pay, or
rejected with the reason, then paid. ``name`` is filled by notification from its contact
directory; amounts read in yuan from integer fen; dates are days in China.
"""

from collections.abc import Mapping
from types import MappingProxyType

from chs_events.events.base import Event
from chs_events.events.reimbursement import (
    SETTLEMENT_REVERSAL_REASONS,
    ClaimApproved,
    ClaimPaid,
    ClaimRejected,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
)
from chs_events.vocabulary import CHINA, yuan
from chs_progress_notices.rules.model import NoticeSpec, Rule

SETTLED = "reimbursement.settled"
REVERSED = "reimbursement.reversed"
CLAIM_SUBMITTED = "reimbursement.claim_submitted"
CLAIM_APPROVED = "reimbursement.claim_approved"
CLAIM_REJECTED = "reimbursement.claim_rejected"
CLAIM_PAID = "reimbursement.claim_paid"

# A resident (and an employee whose account paid nothing) reads no personal-account part.
NO_ACCOUNT_PART = ""
# The template puts "。" after a reason; a reason that already ends a sentence loses its own.
_SENTENCE_END = "。．.！!；;，, "
UNSTATED_REASON = "未注明"  # a blank reason must not read "原因：。"

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        template: frozenset({"name"})
        for template in (
            SETTLED,
            REVERSED,
            CLAIM_SUBMITTED,
            CLAIM_APPROVED,
            CLAIM_REJECTED,
            CLAIM_PAID,
        )
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        SETTLED: frozenset(
            {
                "date",
                "institution",
                "total",
                "pooled_fund",
                "critical_illness",
                "medical_assistance",
                "personal_account",
                "personal_cash",
            }
        ),
        REVERSED: frozenset({"institution", "total", "invoice_no", "reversed_on", "reason"}),
        CLAIM_SUBMITTED: frozenset({"invoice_no"}),
        CLAIM_APPROVED: frozenset({"invoice_no", "total", "payable"}),
        CLAIM_REJECTED: frozenset({"invoice_no", "reason"}),
        CLAIM_PAID: frozenset({"amount", "invoice_no", "paid_on"}),
    }
)


def _reason(text: str) -> str:
    return text.strip().rstrip(_SENTENCE_END) or UNSTATED_REASON


def _settled(event: SettlementCompleted) -> list[NoticeSpec]:
    account = (
        f"，个人账户支付{yuan(event.personal_account_fen)}元"
        if event.personal_account_fen
        else NO_ACCOUNT_PART
    )
    return [
        (
            SETTLED,
            event.person_id,
            {
                "date": event.service_end.isoformat(),
                "institution": event.institution_name,
                "total": yuan(event.total_fen),
                "pooled_fund": yuan(event.pooled_fund_fen),
                "critical_illness": yuan(event.critical_illness_fen),
                "medical_assistance": yuan(event.medical_assistance_fen),
                "personal_account": account,
                "personal_cash": yuan(event.personal_cash_fen),
            },
        )
    ]


def _reversed(event: SettlementReversed) -> list[NoticeSpec]:
    return [
        (
            REVERSED,
            event.person_id,
            {
                "institution": event.institution_name,
                "total": yuan(event.total_fen),
                "invoice_no": event.invoice_no,
                "reversed_on": event.reversed_at.astimezone(CHINA).date().isoformat(),
                "reason": SETTLEMENT_REVERSAL_REASONS[event.reason_code],
            },
        )
    ]


def _submitted(event: ClaimSubmitted) -> list[NoticeSpec]:
    return [(CLAIM_SUBMITTED, event.person_id, {"invoice_no": event.invoice_no})]


def _approved(event: ClaimApproved) -> list[NoticeSpec]:
    return [
        (
            CLAIM_APPROVED,
            event.person_id,
            {
                "invoice_no": event.invoice_no,
                "total": yuan(event.total_fen),
                "payable": yuan(event.payable_fen),
            },
        )
    ]


def _rejected(event: ClaimRejected) -> list[NoticeSpec]:
    return [
        (
            CLAIM_REJECTED,
            event.person_id,
            {"invoice_no": event.invoice_no, "reason": _reason(event.reason)},
        )
    ]


def _paid(event: ClaimPaid) -> list[NoticeSpec]:
    return [
        (
            CLAIM_PAID,
            event.person_id,
            {
                "amount": yuan(event.amount_fen),
                "invoice_no": event.invoice_no,
                "paid_on": event.paid_on.isoformat(),
            },
        )
    ]


RULES: Mapping[type[Event], Rule] = {
    SettlementCompleted: _settled,
    SettlementReversed: _reversed,
    ClaimSubmitted: _submitted,
    ClaimApproved: _approved,
    ClaimRejected: _rejected,
    ClaimPaid: _paid,
}
