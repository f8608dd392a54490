"""The notices of the personal account (个人账户收支实时告知), of one event. Pure: no I/O.

Every income and expense tells the holder (the event's person) the amount and the balance after;
a family member's spending (家庭共济) is told to the holder too, naming who spent it. Family
authorizations are confirmed to the holder. A withdrawal at death and AccountOpened ask for no
notice (the enrollment notice already told the employee), nor does AccountTransferredWithin (the
balance stays the holder's, in the same account: transfer.completed told the move). A debit that
takes the balance below the region's threshold also asks for ``account.low_balance``; where
coalescing is on, a burst of small debits is told as one ``account.debits_coalesced``
(``chs_account_notices.rules.continuity``). ``name`` is filled by notification from its contact
directory. The notice ids are ``notice_id(source event id, template, recipient)``, as the
progress-notice processor gave them when it made these notices.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from chs_account_notices.rules.state import Burst
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountTransferredIn,
    AccountTransferredOut,
    FamilyMemberAuthorized,
    FamilyMemberRevoked,
)
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested
from chs_events.regions import region
from chs_events.vocabulary import CHINA, yuan

CATEGORY = "account"  # 个人账户收支实时: its own category, not a business result
PRIORITY = "high"

# (template_id, recipient person_id, params the processor fills)
NoticeSpec = tuple[str, str, dict[str, str]]
Rule = Callable[[Any], list[NoticeSpec]]

CREDITED = "account.credited"
DEBITED = "account.debited"
TRANSFERRED_OUT = "account.transferred_out"
TRANSFERRED_IN = "account.transferred_in"
AUTHORIZED = "account.family_member_authorized"
REVOKED = "account.family_member_revoked"
LOW_BALANCE = "account.low_balance"
DEBITS_COALESCED = "account.debits_coalesced"

RELATION_NAMES: Mapping[str, str] = MappingProxyType(
    {"spouse": "配偶", "child": "子女", "parent": "父母", "parent_in_law": "配偶的父母"}
)
MERCHANT_KINDS: Mapping[str, str] = MappingProxyType(
    {"pharmacy": "定点药店", "hospital": "定点医疗机构"}
)

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        template: frozenset({"name"})
        for template in (
            CREDITED,
            DEBITED,
            TRANSFERRED_OUT,
            TRANSFERRED_IN,
            AUTHORIZED,
            REVOKED,
            LOW_BALANCE,
            DEBITS_COALESCED,
        )
    }
)

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        CREDITED: frozenset({"posted_on", "amount_yuan", "period_text", "balance_yuan"}),
        DEBITED: frozenset(
            {"posted_on", "spender", "merchant_kind_name", "amount_yuan", "balance_yuan"}
        ),
        TRANSFERRED_OUT: frozenset({"to_region_name", "amount_yuan"}),
        TRANSFERRED_IN: frozenset({"from_region_name", "amount_yuan", "balance_yuan"}),
        AUTHORIZED: frozenset({"relation_name"}),
        REVOKED: frozenset({"relation_name"}),
        LOW_BALANCE: frozenset({"balance_yuan", "threshold_yuan"}),
        DEBITS_COALESCED: frozenset({"posted_on", "count", "total_yuan", "balance_yuan"}),
    }
)


def period_text(period: str) -> str:
    """A contribution period YYYYMM as it reads in a message: "202611" → "2026年11月"."""
    return f"{period[:4]}年{int(period[4:])}月"


def _posted_on(event: AccountCredited | AccountDebited) -> str:
    return event.posted_at.astimezone(CHINA).date().isoformat()


def _credited(event: AccountCredited) -> list[NoticeSpec]:
    return [
        (
            CREDITED,
            event.person_id,
            {
                "posted_on": _posted_on(event),
                "amount_yuan": yuan(event.amount_fen),
                "period_text": period_text(event.period),
                "balance_yuan": yuan(event.balance_after_fen),
            },
        )
    ]


def _debited(event: AccountDebited) -> list[NoticeSpec]:
    spender = (
        "本人" if event.relation is None else f"家庭共济成员（{RELATION_NAMES[event.relation]}）"
    )
    return [
        (
            DEBITED,
            event.person_id,
            {
                "posted_on": _posted_on(event),
                "spender": spender,
                "merchant_kind_name": MERCHANT_KINDS[event.merchant_kind],
                "amount_yuan": yuan(event.amount_fen),
                "balance_yuan": yuan(event.balance_after_fen),
            },
        )
    ]


def _transferred_out(event: AccountTransferredOut) -> list[NoticeSpec]:
    return [
        (
            TRANSFERRED_OUT,
            event.person_id,
            {"to_region_name": region(event.to_region).name, "amount_yuan": yuan(event.amount_fen)},
        )
    ]


def _transferred_in(event: AccountTransferredIn) -> list[NoticeSpec]:
    return [
        (
            TRANSFERRED_IN,
            event.person_id,
            {
                "from_region_name": region(event.from_region).name,
                "amount_yuan": yuan(event.amount_fen),
                "balance_yuan": yuan(event.balance_after_fen),
            },
        )
    ]


def _authorized(event: FamilyMemberAuthorized) -> list[NoticeSpec]:
    return [(AUTHORIZED, event.person_id, {"relation_name": RELATION_NAMES[event.relation]})]


def _revoked(event: FamilyMemberRevoked) -> list[NoticeSpec]:
    return [(REVOKED, event.person_id, {"relation_name": RELATION_NAMES[event.relation]})]


RULES: Mapping[type[Event], Rule] = {
    AccountCredited: _credited,
    AccountDebited: _debited,
    AccountTransferredOut: _transferred_out,
    AccountTransferredIn: _transferred_in,
    FamilyMemberAuthorized: _authorized,
    FamilyMemberRevoked: _revoked,
}


def low_balance(event: AccountDebited, threshold_fen: int) -> NoticeSpec:
    return (
        LOW_BALANCE,
        event.person_id,
        {"balance_yuan": yuan(event.balance_after_fen), "threshold_yuan": yuan(threshold_fen)},
    )


def requested(source: Envelope, specs: list[NoticeSpec]) -> list[NoticeRequested]:
    """The notice requests of ``specs``, caused by ``source``: deterministic ids."""
    return [
        NoticeRequested.caused_by(
            source.id, template_id, recipient, params, category=CATEGORY, priority=PRIORITY
        )
        for template_id, recipient, params in specs
    ]


def notices_for(source: Envelope) -> list[NoticeRequested]:
    """The notices an account event asks for by itself (no state); [] for one that asks for
    none."""
    rule = RULES.get(type(source.event))
    return [] if rule is None else requested(source, rule(source.event))


def coalesced(burst: Burst) -> NoticeRequested:
    """A burst's notice: its id of the burst's first debit, whichever event or tick closes it."""
    started = datetime.fromtimestamp(burst.started_at, CHINA).date()
    return NoticeRequested.caused_by(
        burst.first_event_id,
        DEBITS_COALESCED,
        burst.person_id,
        {
            "posted_on": started.isoformat(),
            "count": str(burst.count),
            "total_yuan": yuan(burst.total_fen),
            "balance_yuan": yuan(burst.balance_fen),
        },
        category=CATEGORY,
        priority=PRIORITY,
    )
