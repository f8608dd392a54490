"""What the processor keeps per person, and its bytes in a faust table (no I/O).

Two tables, both keyed by ``person_id`` and co-partitioned with every input topic:

- ``records``: the feeds' side, the date of death and the person's accident cases;
- ``benefits``: the benefit side, what the fund or the account paid within the horizon (each
  with the visit it paid for, where it has one), the claims submitted and not yet paid, the
  settlements reversed, and the account's pooling region.

A benefit event rewrites only the ``benefits`` value and a feed record only the ``records`` one,
so the changelog carries each side's change alone. The bytes are compact JSON arrays (positional,
dates as ordinals): 1 M people with a year of benefits are ~10 M kept items.
"""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import orjson

BenefitKind = Literal["settlement", "claim_payment", "account_debit", "maternity_allowance"]
KINDS: tuple[BenefitKind, ...] = (
    "settlement",
    "claim_payment",
    "account_debit",
    "maternity_allowance",
)


@dataclass(frozen=True)
class Visit:
    """Where and when the bill was incurred: what near-duplicates and injuries are read from."""

    institution_code: str
    region: str
    admission_date: date
    discharge_date: date
    invoice_no: str
    injury: bool


@dataclass(frozen=True)
class Kept:
    """A benefit paid, as the person's state keeps it."""

    kind: BenefitKind
    reference: str
    event_id: str
    service_date: date
    amount_fen: int
    institution_code: str | None = None
    region: str | None = None
    visit: Visit | None = None


@dataclass(frozen=True)
class Death:
    record_id: str
    date_of_death: date
    region: str


@dataclass(frozen=True)
class Accident:
    case_id: str
    accident_date: date
    region: str


@dataclass(frozen=True)
class Records:
    death: Death | None = None
    accidents: tuple[Accident, ...] = ()


@dataclass(frozen=True)
class Benefits:
    kept: tuple[Kept, ...] = ()
    claims: dict[str, Visit] = field(default_factory=dict)  # submitted, not yet paid
    reversed: tuple[str, ...] = ()  # settlement ids reversed: never kept again
    account_region: str | None = None

    def with_kept(self, kept: tuple[Kept, ...]) -> "Benefits":
        return replace(self, kept=kept)


# --- bytes -----------------------------------------------------------------------------------


def _day(value: int) -> date:
    return date.fromordinal(value)


def _visit_out(visit: Visit | None) -> list[Any] | None:
    if visit is None:
        return None
    return [
        visit.institution_code,
        visit.region,
        visit.admission_date.toordinal(),
        visit.discharge_date.toordinal(),
        visit.invoice_no,
        int(visit.injury),
    ]


def _visit_in(stored: list[Any] | None) -> Visit | None:
    if stored is None:
        return None
    code, region, admission, discharge, invoice, injury = stored
    return Visit(code, region, _day(admission), _day(discharge), invoice, bool(injury))


def dump_benefits(state: Benefits) -> bytes:
    return orjson.dumps(
        [
            [
                [
                    KINDS.index(k.kind),
                    k.reference,
                    k.event_id,
                    k.service_date.toordinal(),
                    k.amount_fen,
                    k.institution_code,
                    k.region,
                    _visit_out(k.visit),
                ]
                for k in state.kept
            ],
            {claim: _visit_out(visit) for claim, visit in state.claims.items()},
            list(state.reversed),
            state.account_region,
        ]
    )


def load_benefits(stored: bytes | None) -> Benefits:
    if not stored:
        return Benefits()
    kept, claims, reversed_ids, account_region = orjson.loads(stored)
    return Benefits(
        tuple(
            Kept(KINDS[kind], ref, event, _day(day), amount, code, region, _visit_in(visit))
            for kind, ref, event, day, amount, code, region, visit in kept
        ),
        {claim: v for claim, visit in claims.items() if (v := _visit_in(visit)) is not None},
        tuple(reversed_ids),
        account_region,
    )


def dump_records(state: Records) -> bytes:
    death = state.death
    return orjson.dumps(
        [
            None
            if death is None
            else [death.record_id, death.date_of_death.toordinal(), death.region],
            [[a.case_id, a.accident_date.toordinal(), a.region] for a in state.accidents],
        ]
    )


def load_records(stored: bytes | None) -> Records:
    if not stored:
        return Records()
    death, accidents = orjson.loads(stored)
    return Records(
        None if death is None else Death(death[0], _day(death[1]), death[2]),
        tuple(Accident(case, _day(day), region) for case, day, region in accidents),
    )
