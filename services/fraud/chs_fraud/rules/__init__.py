"""The fraud processor's rules: one event and the person's state → the new state and the signals
it raises. Pure functions, no I/O; ``chs_fraud.app`` keeps the state in faust tables.

faust has no join: both sides of every match are kept per person, and each side's arrival looks
at the other, so either arrival order raises the signal once.

- **Benefits after death**: a benefit on a day after the date of death. On a benefit, the death
  kept is checked; on a death, the person's kept benefits are swept; a ``DeathCorrected`` sweeps
  again for the benefits after the new date that were not after the previous one.
- **Third-party liability**: an injury visit (ICD-10 S00–T98, V01–Y98) admitted in a window
  around an accident case's date (``Rules.accident_days_before`` / ``_after``). On the benefit,
  the kept accidents are checked; on the case, the kept injury benefits.
- **Near-duplicate bills**: a settlement or paid claim at the institution and on the dates of
  another kept one, under another invoice number.

A reversed settlement is dropped from the state and remembered: it raises nothing after its
reversal, even if redelivered. Benefits are kept for ``horizon_days`` back from the newest one,
at most ``max_kept`` of them.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

from chs_events.events.account import AccountDebited, AccountOpened, AccountTransferredIn
from chs_events.events.base import Event
from chs_events.events.feeds import AccidentCaseRecorded, DeathCorrected, DeathRecorded
from chs_events.events.fraud import FraudSignalRaised
from chs_events.events.maternity import MaternityAllowancePaid
from chs_events.events.reimbursement import (
    ClaimPaid,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
)
from chs_events.topics import (
    ACCIDENT_FEED,
    ACCOUNT_EVENTS,
    DEATH_FEED,
    MATERNITY_EVENTS,
    REIMBURSEMENT_EVENTS,
)
from chs_fraud.rules import signals
from chs_fraud.rules.benefits import posting_day, settled_fen, visit_of
from chs_fraud.rules.state import Accident, Benefits, Death, Kept, Records, Visit

SOURCE_TOPICS = (DEATH_FEED, ACCIDENT_FEED, REIMBURSEMENT_EVENTS, ACCOUNT_EVENTS, MATERNITY_EVENTS)
RECORD_EVENTS: tuple[type[Event], ...] = (DeathRecorded, DeathCorrected, AccidentCaseRecorded)
BENEFIT_EVENTS: tuple[type[Event], ...] = (
    SettlementCompleted,
    SettlementReversed,
    ClaimSubmitted,
    ClaimPaid,
    AccountDebited,
    AccountOpened,
    AccountTransferredIn,
    MaternityAllowancePaid,
)
TYPES = frozenset(model.ce_type for model in (*RECORD_EVENTS, *BENEFIT_EVENTS))


@dataclass(frozen=True)
class Rules:
    accident_days_before: int = 3
    accident_days_after: int = 30
    horizon_days: int = 730
    max_kept: int = 500
    max_accidents: int = 50
    max_remembered: int = 200  # reversed settlements, claims awaiting payment


@dataclass(frozen=True)
class Step:
    """What an event changed (``None``: that side's state is unchanged) and raised."""

    records: Records | None = None
    benefits: Benefits | None = None
    signals: tuple[FraudSignalRaised, ...] = ()


def apply(event: Event, event_id: str, records: Records, benefits: Benefits, rules: Rules) -> Step:
    """The step of one event (``event_id``: its envelope's) for the person it is about."""
    match event:
        case DeathRecorded() | DeathCorrected():
            return _death(event, records, benefits)
        case AccidentCaseRecorded():
            return _accident(event, records, benefits, rules)
        case SettlementReversed():
            return Step(benefits=_reversed(benefits, event.settlement_id, rules))
        case ClaimSubmitted():
            claims = _bounded({**benefits.claims, event.claim_id: visit_of(event)}, rules)
            return Step(benefits=replace(benefits, claims=claims))
        case AccountOpened():
            return Step(benefits=replace(benefits, account_region=event.pooling_region))
        case AccountTransferredIn():
            return Step(benefits=replace(benefits, account_region=event.to_region))
    kept = kept_of(event, event_id, benefits)
    if kept is None:
        return Step()
    return _benefit(event.person_id, kept, records, _claimed(benefits, kept), rules)


def kept_of(event: Event, event_id: str, benefits: Benefits) -> Kept | None:
    """The benefit an event pays, as the state keeps it (None: not a benefit, or a settlement
    already reversed)."""
    match event:
        case SettlementCompleted():
            if event.settlement_id in benefits.reversed:
                return None
            visit = visit_of(event)
            return Kept(
                "settlement",
                event.settlement_id,
                event_id,
                event.admission_date,
                settled_fen(event),
                event.institution_code,
                event.institution_region,
                visit,
            )
        case ClaimPaid():
            claimed = benefits.claims.get(event.claim_id) or _paid_visit(benefits, event.claim_id)
            return Kept(
                "claim_payment",
                event.claim_id,
                event_id,
                claimed.admission_date if claimed else event.paid_on,
                event.amount_fen,
                claimed.institution_code if claimed else None,
                claimed.region if claimed else None,
                claimed,
            )
        case AccountDebited():
            return Kept(
                "account_debit",
                event.transaction_id,
                event_id,
                posting_day(event.posted_at),
                event.amount_fen,
                event.merchant_code,
                benefits.account_region,
            )
        case MaternityAllowancePaid():
            return Kept(
                "maternity_allowance", event.allowance_id, event_id, event.paid_on, event.amount_fen
            )
    return None


def _paid_visit(benefits: Benefits, claim_id: str) -> Visit | None:
    """The visit of a claim already paid (its payment delivered again)."""
    for kept in benefits.kept:
        if kept.kind == "claim_payment" and kept.reference == claim_id:
            return kept.visit
    return None


def _claimed(benefits: Benefits, kept: Kept) -> Benefits:
    if kept.kind != "claim_payment" or kept.reference not in benefits.claims:
        return benefits
    claims = {c: v for c, v in benefits.claims.items() if c != kept.reference}
    return replace(benefits, claims=claims)


def _benefit(
    person_id: str, kept: Kept, records: Records, benefits: Benefits, rules: Rules
) -> Step:
    others = [k for k in benefits.kept if (k.kind, k.reference) != (kept.kind, kept.reference)]
    raised: list[FraudSignalRaised | None] = []
    if records.death is not None:
        raised.append(signals.after_death(person_id, records.death, kept))
    for accident in records.accidents:
        if signals.in_window(accident, kept, rules.accident_days_before, rules.accident_days_after):
            raised.append(signals.third_party(person_id, accident, kept))
    raised += [
        signals.near_duplicate(person_id, kept, o) for o in others if signals.same_bill(kept, o)
    ]
    return Step(
        benefits=benefits.with_kept(_within_horizon([*others, kept], rules)),
        signals=signals.present(raised),
    )


def _death(event: DeathRecorded | DeathCorrected, records: Records, benefits: Benefits) -> Step:
    death = Death(event.record_id, event.date_of_death, event.region_code)
    swept = [signals.after_death(event.person_id, death, kept) for kept in benefits.kept]
    if isinstance(event, DeathCorrected):  # raised already: those after the previous date
        before = event.previous_date_of_death
        swept = [s for s in swept if s is not None and s.benefits[0].service_date <= before]
    return Step(records=replace(records, death=death), signals=signals.present(swept))


def _accident(
    event: AccidentCaseRecorded, records: Records, benefits: Benefits, rules: Rules
) -> Step:
    accident = Accident(event.case_id, event.accident_date, event.region_code)
    kept_cases = [a for a in records.accidents if a.case_id != accident.case_id]
    horizon = max(a.accident_date for a in (*kept_cases, accident)) - timedelta(
        days=rules.horizon_days
    )
    accidents = sorted(
        (a for a in (*kept_cases, accident) if a.accident_date >= horizon),
        key=lambda a: a.accident_date,
    )[-rules.max_accidents :]
    raised = [
        signals.third_party(event.person_id, accident, kept)
        for kept in benefits.kept
        if signals.in_window(accident, kept, rules.accident_days_before, rules.accident_days_after)
    ]
    return Step(
        records=replace(records, accidents=tuple(accidents)), signals=signals.present(raised)
    )


def _reversed(benefits: Benefits, settlement_id: str, rules: Rules) -> Benefits:
    kept = tuple(
        k for k in benefits.kept if not (k.kind == "settlement" and k.reference == settlement_id)
    )
    remembered = (*(r for r in benefits.reversed if r != settlement_id), settlement_id)
    return replace(benefits, kept=kept, reversed=remembered[-rules.max_remembered :])


def _bounded(claims: dict[str, Visit], rules: Rules) -> dict[str, Visit]:
    return dict(list(claims.items())[-rules.max_remembered :])


def _within_horizon(kept: Iterable[Kept], rules: Rules) -> tuple[Kept, ...]:
    """The benefits of the last ``horizon_days`` (back from the newest), at most ``max_kept``,
    the newest kept."""
    items = list(kept)
    newest = max(k.service_date for k in items)
    recent = [k for k in items if k.service_date >= newest - timedelta(days=rules.horizon_days)]
    if len(recent) > rules.max_kept:
        recent = sorted(recent, key=lambda k: k.service_date)[-rules.max_kept :]
    return tuple(recent)
