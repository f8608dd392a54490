"""The disease catalog (门诊慢特病病种目录), kept as data in ``catalog.json`` and validated at load.

Each condition has ICD-10 ranges, an annual cap (integer fen), a pay ratio (integer per-mille),
a validity in months, the evidence kinds an application must show, whether a reviewer decides
its applications (``review``), and whether it is granted without application (``auto``,
免申即享) when a settlement carries a matching discharge diagnosis.

ICD-10 matching works on the code without its dot: a range ``lo-hi`` holds a code when the
code, cut to the length of ``lo``, lies between ``lo`` and ``hi``; so ``E11`` holds E11 and
E11.9, ``C00-C97`` holds C34.1, ``N18.5-N18.6`` holds N18.5 but not N18.4. No two conditions
may share a code: a diagnosis names at most one condition.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,8})?$")


class InvalidCatalog(ValueError):
    pass


class InvalidDiagnosis(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"{code!r} is not an ICD-10 code (e.g. E11.9)")
        self.code = code


def normalize_icd10(code: str) -> str:
    """'e11.9 ' → 'E11.9'; raises InvalidDiagnosis for anything that is not an ICD-10 code."""
    cleaned = code.strip().upper()
    if not _CODE.fullmatch(cleaned):
        raise InvalidDiagnosis(code)
    return cleaned


def _flat(code: str) -> str:
    return normalize_icd10(code).replace(".", "")


@dataclass(frozen=True)
class Icd10Range:
    """An inclusive range of ICD-10 codes, written ``E11`` or ``I10-I15`` or ``N18.5-N18.6``."""

    text: str
    low: str
    high: str

    @classmethod
    def parse(cls, text: str) -> "Icd10Range":
        low_text, dash, high_text = text.partition("-")
        if dash and not high_text:
            raise ValueError(f"range {text!r}: no upper end")
        try:
            low, high = _flat(low_text), _flat(high_text or low_text)
        except InvalidDiagnosis as error:
            raise ValueError(f"range {text!r}: {error}") from None
        if len(low) != len(high) or low[0] != high[0]:
            raise ValueError(
                f"range {text!r}: both ends must be codes of the same chapter letter and precision"
            )
        if low > high:
            raise ValueError(f"range {text!r}: {low_text} is after {high_text}")
        return cls(text, low, high)

    def contains(self, code: str) -> bool:
        flat = _flat(code)
        return len(flat) >= len(self.low) and self.low <= flat[: len(self.low)] <= self.high

    def overlaps(self, other: "Icd10Range") -> bool:
        size = min(len(self.low), len(other.low))
        return (self.low[:size] <= other.high[:size]) and (other.low[:size] <= self.high[:size])


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: str = Field(min_length=1, max_length=40)
    icd10: tuple[str, ...] = Field(min_length=1)
    annual_cap_fen: int = Field(strict=True, gt=0)
    pay_ratio_permille: int = Field(strict=True, gt=0, le=1000)
    validity_months: int = Field(strict=True, gt=0, le=120)
    auto: bool = False
    review: bool = False
    required_evidence: tuple[str, ...] = ()

    @field_validator("icd10")
    @classmethod
    def _ranges_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            Icd10Range.parse(text)
        return value

    @property
    def ranges(self) -> tuple[Icd10Range, ...]:
        return tuple(Icd10Range.parse(text) for text in self.icd10)

    def matches(self, code: str) -> bool:
        return any(r.contains(code) for r in self.ranges)


class _CatalogFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    version: str
    application_window_days: int = Field(strict=True, gt=0)
    evidence_kinds: tuple[str, ...]
    conditions: tuple[Condition, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "_CatalogFile":
        seen: dict[str, Condition] = {}
        for condition in self.conditions:
            if condition.code in seen:
                raise ValueError(f"condition {condition.code} is listed twice")
            seen[condition.code] = condition
            unknown = set(condition.required_evidence) - set(self.evidence_kinds)
            if unknown:
                raise ValueError(
                    f"condition {condition.code} requires unknown evidence kinds {sorted(unknown)}"
                )
        ranges = [(c, r) for c in self.conditions for r in c.ranges]
        for index, (first, first_range) in enumerate(ranges):
            for second, second_range in ranges[index + 1 :]:
                if first_range.overlaps(second_range):
                    raise ValueError(
                        f"ICD-10 ranges overlap: {first.code} {first_range.text} "
                        f"and {second.code} {second_range.text}"
                    )
        return self


@dataclass(frozen=True)
class Catalog:
    title: str
    version: str
    application_window_days: int
    evidence_kinds: tuple[str, ...]
    conditions: tuple[Condition, ...]

    @classmethod
    def from_data(cls, data: Any) -> "Catalog":
        try:
            parsed = _CatalogFile.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'catalog'}: {e['msg']}"
                for e in error.errors()
            )
            raise InvalidCatalog(f"disease catalog invalid: {problems}") from None
        return cls(
            parsed.title,
            parsed.version,
            parsed.application_window_days,
            parsed.evidence_kinds,
            parsed.conditions,
        )

    def get(self, code: str) -> Condition | None:
        return next((c for c in self.conditions if c.code == code), None)

    @property
    def auto_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.auto)

    def condition_of(self, diagnosis: str) -> Condition | None:
        """The one condition whose ranges hold the diagnosis, or None."""
        return next((c for c in self.conditions if c.matches(diagnosis)), None)

    def conditions_of(self, diagnoses: Iterable[str]) -> list[Condition]:
        """The conditions the diagnoses name, in the order of the diagnoses, each once."""
        found: list[Condition] = []
        for diagnosis in diagnoses:
            condition = self.condition_of(diagnosis)
            if condition is not None and condition not in found:
                found.append(condition)
        return found


def matching(diagnoses: Sequence[str], condition: Condition) -> list[str]:
    return [d for d in diagnoses if condition.matches(d)]


@cache
def load_catalog() -> Catalog:
    """The packaged catalog, validated once per process."""
    text = (files("chs_chronic") / "catalog.json").read_text(encoding="utf-8")
    return Catalog.from_data(json.loads(text))
