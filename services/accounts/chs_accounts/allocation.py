"""The allocation rule (划入规则): how much of a contribution the personal account receives.

Policy data, not code: ``allocation_rule.json`` (or the file named by
``CHS_ACCOUNT_ALLOCATION_RULE``), validated when it is loaded — a bad file stops the process at
start rather than crediting wrong amounts. The whole personal part (by ``personal_part_percent``)
plus a share of the employer part by the holder's age on the payment day. Integer fen; each part
is floored on its own.
"""

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Percent = Annotated[int, Field(strict=True, ge=0, le=100)]


class AgeBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    min_age: Annotated[int, Field(strict=True, ge=0, le=150)]
    percent: Percent


class AllocationRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rule_id: Annotated[str, Field(min_length=1, max_length=40)]
    description: str = ""
    personal_part_percent: Percent
    employer_part_bands: tuple[AgeBand, ...] = Field(min_length=1)
    unknown_age_percent: Percent = 0

    @model_validator(mode="after")
    def _bands_cover_every_age(self) -> "AllocationRule":
        ages = [band.min_age for band in self.employer_part_bands]
        if ages[0] != 0:
            raise ValueError("the first employer_part_band must start at min_age 0")
        if ages != sorted(set(ages)):
            raise ValueError("employer_part_bands must be in rising, distinct min_age order")
        return self

    def employer_percent(self, age: int | None) -> int:
        if age is None:
            return self.unknown_age_percent
        return [band.percent for band in self.employer_part_bands if band.min_age <= age][-1]

    def credit_fen(self, personal_part_fen: int, employer_part_fen: int, age: int | None) -> int:
        return (
            personal_part_fen * self.personal_part_percent // 100
            + employer_part_fen * self.employer_percent(age) // 100
        )


def age_on(birth_date: date | None, day: date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def load_rule(path: Path) -> AllocationRule:
    """The rule in ``path``; ValueError (pydantic's ValidationError) when it is not valid."""
    return AllocationRule.model_validate_json(Path(path).read_text(encoding="utf-8"))
