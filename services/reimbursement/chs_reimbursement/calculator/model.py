"""Inputs and outputs of the benefit calculator, as frozen dataclasses.

Money is integer fen (分) everywhere; ratios are integer per-mille (‰). Codes follow the national
platform: insured type ``310`` employee basic, ``390`` urban-rural resident basic; hospital level
1, 2, 3 (一级/二级/三级); regions are GB/T 2260 codes.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from chs_events.vocabulary import Insutype

VisitType = Literal["outpatient", "inpatient"]
FilingCategory = Literal["none", "long_term", "temporary"]
Tier = Literal["pooled_fund", "critical_illness", "medical_assistance", "personal_cash"]

# The assisted groups of medical assistance (医疗救助), by the code used in policy files.
ASSISTED_GROUPS: dict[str, str] = {
    "destitute": "特困",
    "dibao": "低保",
    "dibao_marginal": "低保边缘",
    "poverty_relapse": "返贫致贫",
    "monitored": "监测对象",
    "illness_poverty": "因病致贫",
}


@dataclass(frozen=True)
class Person:
    """The insured person as the calculator needs them: insured type, pooling region (参保地)
    and the assisted groups they belong to (codes of ``ASSISTED_GROUPS``)."""

    insutype: Insutype
    region: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Visit:
    """One outpatient visit or one inpatient admission, with its expenses split into eligible
    (政策范围内) and ineligible (全自费) amounts."""

    visit_type: VisitType
    institution_level: Literal[1, 2, 3]
    institution_region: str
    admission_date: date
    discharge_date: date | None
    diagnoses: tuple[str, ...]
    eligible_fen: int
    ineligible_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.eligible_fen + self.ineligible_fen

    @property
    def service_end(self) -> date:
        return self.discharge_date or self.admission_date


@dataclass(frozen=True)
class Case:
    """A visit to settle for a person, under a remote-care filing category (异地就医备案):
    ``none``, ``long_term`` or ``temporary`` (the latter pays a first self-pay share)."""

    person: Person
    visit: Visit
    filing: FilingCategory = "none"


@dataclass(frozen=True)
class Accumulators:
    """A person's year-to-date totals (fen), read before a settlement and replaced by the
    settlement's ``accumulators`` after it. ``admissions`` counts inpatient stays settled."""

    year: int
    basic_inpatient_paid_fen: int = 0
    basic_outpatient_paid_fen: int = 0
    inpatient_deductibles_paid_fen: int = 0
    outpatient_deductible_paid_fen: int = 0
    admissions: int = 0
    critical_illness_counted_fen: int = 0
    critical_illness_paid_fen: int = 0
    assistance_deductible_paid_fen: int = 0
    assistance_paid_fen: int = 0

    def plus(self, **amounts: int) -> "Accumulators":
        """These totals with the given amounts added (never subtracted)."""
        return replace(
            self, **{name: getattr(self, name) + value for name, value in amounts.items()}
        )


@dataclass(frozen=True)
class Line:
    """One line of the split: which tier it belongs to, how much, and the rule that produced
    it, naming the policy parameters used."""

    tier: Tier
    amount_fen: int
    rule: str


@dataclass(frozen=True)
class Split:
    """The split of a visit as in the national settlement record.

    ``pooled_fund_fen + critical_illness_fen + medical_assistance_fen + personal_cash_fen ==
    total_fen``; the personal cash includes ``ineligible_fen`` (全自费). The lines of each tier
    add up to that tier's amount.
    """

    total_fen: int
    eligible_fen: int
    ineligible_fen: int
    pooled_fund_fen: int
    critical_illness_fen: int
    medical_assistance_fen: int
    personal_cash_fen: int
    lines: tuple[Line, ...]
    accumulators: Accumulators

    @property
    def funds_fen(self) -> int:
        return self.pooled_fund_fen + self.critical_illness_fen + self.medical_assistance_fen

    def lines_of(self, tier: Tier) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.tier == tier)
