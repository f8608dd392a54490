"""The three matches, from the state to the signals they raise (no I/O).

A signal's id is uuid5 of its kind and what it rests on, so the same evidence, however often
it is processed and in whichever order it arrived, raises the same signal:

- ``benefit_after_death``: the benefit's event (one lead per benefit, whichever death record or
  correction shows it);
- ``third_party_liability``: the accident case and the benefit's event;
- ``near_duplicate_bill``: the two bills' events.
"""

import uuid
from collections.abc import Iterable
from datetime import timedelta

from chs_events.events.fraud import Benefit, FraudSignalRaised, SignalKind
from chs_fraud.rules.state import Accident, Death, Kept

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:chs:fraud:signal")


def signal_id(kind: SignalKind, *rests_on: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *sorted(rests_on)))))


def evidence(kept: Kept, region: str) -> Benefit:
    """The benefit as the case worker reads it; ``region`` when the benefit has none of its own
    (an account debit of an unknown account, a maternity allowance)."""
    return Benefit(
        kind=kept.kind,
        reference=kept.reference,
        event_id=kept.event_id,
        service_date=kept.service_date,
        amount_fen=kept.amount_fen,
        institution_code=kept.institution_code,
        region=kept.region or region,
    )


def after_death(person_id: str, death: Death, kept: Kept) -> FraudSignalRaised | None:
    """A benefit on a day after the date of death."""
    if kept.service_date <= death.date_of_death:
        return None
    benefit = evidence(kept, death.region)
    return FraudSignalRaised(
        person_id=person_id,
        signal_id=signal_id("benefit_after_death", kept.event_id),
        kind="benefit_after_death",
        region=benefit.region,
        amount_fen=kept.amount_fen,
        benefits=(benefit,),
        record_reference=death.record_id,
        record_date=death.date_of_death,
    )


def in_window(accident: Accident, kept: Kept, days_before: int, days_after: int) -> bool:
    """An injury visit admitted from ``days_before`` before the accident to ``days_after``
    after it."""
    visit = kept.visit
    if visit is None or not visit.injury:
        return False
    start = accident.accident_date - timedelta(days=days_before)
    return start <= visit.admission_date <= accident.accident_date + timedelta(days=days_after)


def third_party(person_id: str, accident: Accident, kept: Kept) -> FraudSignalRaised:
    """The fund paid for an injury another party is liable for: it recovers (社会保险法 art. 30)."""
    benefit = evidence(kept, accident.region)
    return FraudSignalRaised(
        person_id=person_id,
        signal_id=signal_id("third_party_liability", accident.case_id, kept.event_id),
        kind="third_party_liability",
        region=benefit.region,
        amount_fen=kept.amount_fen,
        benefits=(benefit,),
        record_reference=accident.case_id,
        record_date=accident.accident_date,
    )


def same_bill(one: Kept, other: Kept) -> bool:
    """The same institution and dates under another invoice number."""
    a, b = one.visit, other.visit
    return (
        a is not None
        and b is not None
        and a.institution_code == b.institution_code
        and a.admission_date == b.admission_date
        and a.discharge_date == b.discharge_date
        and a.invoice_no != b.invoice_no
    )


def near_duplicate(person_id: str, new: Kept, other: Kept) -> FraudSignalRaised:
    """``new`` bills again what ``other`` billed: the amount at stake is the new one's."""
    assert new.visit is not None and other.visit is not None
    first = evidence(new, new.visit.region)
    second = evidence(other, other.visit.region)
    return FraudSignalRaised(
        person_id=person_id,
        signal_id=signal_id("near_duplicate_bill", new.event_id, other.event_id),
        kind="near_duplicate_bill",
        region=first.region,
        amount_fen=new.amount_fen,
        benefits=(first, second),
        record_reference=other.reference,
        record_date=other.service_date,
    )


def present(signals: Iterable[FraudSignalRaised | None]) -> tuple[FraudSignalRaised, ...]:
    """The signals raised, each once (by id), in order."""
    seen: dict[str, FraudSignalRaised] = {}
    for signal in signals:
        if signal is not None:
            seen.setdefault(signal.signal_id, signal)
    return tuple(seen.values())
