"""The rules of the maternity allowance (生育津贴). No I/O, integer fen only.

Amount: ``daily_wage_fen × leave_days`` with ``daily_wage_fen = monthly_wage_fen // 30`` — the
employer's monthly average wage divided by 30 and rounded DOWN to the fen, then multiplied by
the days (never a float).

Leave days:
- a birth: 98; +15 for a difficult birth (难产); +15 for each baby beyond the first;
- a miscarriage: 15 before 4 months of pregnancy, 42 from 4 months; "4 months" is 16 completed
  weeks of gestation (< 16 weeks → 15 days, ≥ 16 weeks → 42 days).

The employer's monthly average wage (用人单位上年度职工月平均工资) is the mean of the contribution
bases of the employer's staff enrolled on the day — floor(sum / count) — each base being that
employee's declared monthly wage of the previous year (see ``handlers.monthly_wage``).

Birth details from a settlement's discharge diagnoses (ICD-10, insurance edition):
- a delivery is told by the outcome of delivery Z37: Z37.0 / Z37.1 / Z37.9 one baby,
  Z37.2–Z37.4 twins, Z37.5–Z37.7 other multiple births: triplets, or quadruplets when O30.2
  (quadruplet pregnancy) is also coded;
- a difficult birth (难产) is any of O32 (malpresentation), O33 (disproportion), O64–O66
  (obstructed labour), O82 (caesarean section), O83 (other assisted single delivery, e.g.
  breech extraction), O84 (multiple delivery by caesarean / assisted);
- a miscarriage is O00–O08 without a Z37: the code does not say the gestational age, so the
  settlement grants nothing and the allowance is applied for with the weeks.
"""

from dataclasses import dataclass
from typing import Literal

from chs_events.errors import Conflict, InvalidField, NotFound, Rejected

BASE_DAYS = 98
DIFFICULT_BIRTH_DAYS = 15
EXTRA_BABY_DAYS = 15
EARLY_MISCARRIAGE_DAYS = 15
LATE_MISCARRIAGE_DAYS = 42
FOUR_MONTHS_WEEKS = 16
DAYS_PER_MONTH = 30

Kind = Literal["birth", "miscarriage"]

_BABIES_BY_OUTCOME = {"0": 1, "1": 1, "9": 1, "2": 2, "3": 2, "4": 2, "5": 3, "6": 3, "7": 3}
_DIFFICULT = ("O32", "O33", "O64", "O65", "O66", "O82", "O83", "O84")
_MISCARRIAGE = tuple(f"O0{n}" for n in range(9))  # O00–O08


class NotEnrolled(Rejected):
    pass


class NoWage(Rejected):
    """The employer has no staff with a contribution base on the day."""


class NoEmployerWage(Rejected):
    """An employee enrollment without an employer's contribution base: case work."""


class EnrollmentNotYetKnown(Exception):
    """Retried: the enrollment event is on its way on the other topic."""


class AlreadyGranted(Conflict):
    pass


class NotPending(Conflict):
    pass


class ApplicationNotFound(NotFound):
    pass


class AllowanceNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Confinement:
    """What the allowance is for: a birth (babies, difficult or not) or a miscarriage."""

    kind: Kind
    babies: int = 1
    difficult_birth: bool = False
    gestational_weeks: int | None = None


def leave_days(confinement: Confinement) -> int:
    c = confinement
    if c.kind == "miscarriage":
        if c.gestational_weeks is None:
            raise ValueError("a miscarriage needs its gestational weeks")
        return (
            EARLY_MISCARRIAGE_DAYS
            if c.gestational_weeks < FOUR_MONTHS_WEEKS
            else LATE_MISCARRIAGE_DAYS
        )
    if c.babies < 1:
        raise ValueError("a birth has at least one baby")
    return (
        BASE_DAYS
        + (DIFFICULT_BIRTH_DAYS if c.difficult_birth else 0)
        + EXTRA_BABY_DAYS * (c.babies - 1)
    )


def daily_wage_fen(monthly_wage_fen: int) -> int:
    """Monthly average / 30, rounded down to the fen."""
    _check_fen(monthly_wage_fen)
    return monthly_wage_fen // DAYS_PER_MONTH


@dataclass(frozen=True)
class Amount:
    """What an allowance comes to."""

    leave_days: int
    monthly_wage_fen: int
    daily_wage_fen: int
    amount_fen: int


def allowance(monthly_wage_fen: int, confinement: Confinement) -> Amount:
    """The allowance for a confinement at the employer's monthly average wage."""
    days = leave_days(confinement)
    daily = daily_wage_fen(monthly_wage_fen)
    return Amount(days, monthly_wage_fen, daily, daily * days)


def check_confinement_fields(kind: Kind, babies: int, gestational_weeks: int | None) -> None:
    """What an application must say of its confinement."""
    if kind == "miscarriage" and gestational_weeks is None:
        raise InvalidField("gestational_weeks", "a miscarriage needs the weeks")
    if kind == "birth" and babies < 1:
        raise InvalidField("babies", "a birth has at least one baby")


def check_not_granted(granted_allowance_id: str | None) -> None:
    """One allowance per confinement: ``granted_allowance_id`` is the one already granted."""
    if granted_allowance_id is not None:
        raise AlreadyGranted(
            f"allowance {granted_allowance_id} was granted for this confinement",
            allowance_id=granted_allowance_id,
        )


def average_wage_fen(bases_fen: list[int]) -> int | None:
    """The mean of the staff's contribution bases, rounded down to the fen; None for no staff."""
    for base in bases_fen:
        _check_fen(base)
    return sum(bases_fen) // len(bases_fen) if bases_fen else None


def _check_fen(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"amounts are non-negative integer fen, got {value!r}")


def _category(code: str) -> str:
    return code.strip().upper()[:3]


def confinement_of(diagnoses: list[str] | tuple[str, ...]) -> Confinement | None:
    """The birth a settlement's diagnoses tell, or None when they tell no delivery (prenatal
    care, a miscarriage whose weeks are unknown, anything else)."""
    codes = [d.strip().upper() for d in diagnoses]
    outcomes = [c for c in codes if _category(c) == "Z37"]
    if not outcomes:
        return None
    digit = outcomes[0][4:5] if len(outcomes[0]) > 4 and outcomes[0][3] == "." else "9"
    babies = _BABIES_BY_OUTCOME.get(digit, 1)
    if babies == 3 and any(c.startswith("O30.2") for c in codes):
        babies = 4
    difficult = any(_category(c) in _DIFFICULT for c in codes)
    return Confinement("birth", babies=babies, difficult_birth=difficult)


def is_miscarriage(diagnoses: list[str] | tuple[str, ...]) -> bool:
    return any(_category(d) in _MISCARRIAGE for d in diagnoses)
