"""The statutory cap of an employee's contribution base (缴费基数上限), per pooling region and
year: ``cap_percent`` of the average monthly wage the region sets for the year, policy data in
``contribution_bases.json`` (validated when it is loaded: a bad file stops the process at start).

A region not listed takes its province's figure, then the national one; a year outside the
listed ones takes the nearest listed year's. A district or county is its city's pooling region
(``chs_events.regions.pooling_region``).
"""

import json
from importlib.resources import files
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chs_events.fields import PositiveFen
from chs_events.regions import is_region_code, pooling_region, province_code

NATIONAL = "national"


class BasePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str = ""
    cap_percent: Annotated[int, Field(strict=True, ge=100, le=500)]
    average_monthly_wage_fen: dict[str, dict[int, PositiveFen]]

    @field_validator("average_monthly_wage_fen")
    @classmethod
    def _regions_and_years(cls, wages: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
        if NATIONAL not in wages:
            raise ValueError("the national figure is required")
        for where, years in wages.items():
            if where != NATIONAL and not is_region_code(where):
                raise ValueError(f"{where} is not a region code")
            if not years:
                raise ValueError(f"{where}: no year")
        return wages

    def average_wage_fen(self, region: str, year: int) -> int:
        """The average monthly wage that holds in ``region`` (any level) in ``year``."""
        pooled = pooling_region(region)
        for where in (pooled, province_code(pooled), NATIONAL):
            if years := self.average_monthly_wage_fen.get(where):
                listed = sorted(years)
                nearest = max((y for y in listed if y <= year), default=listed[0])
                return years[nearest]
        raise AssertionError("unreachable: the national figure is required")

    def cap_fen(self, region: str, year: int) -> int:
        """The highest contribution base in ``region`` for ``year``, floored to the fen."""
        return self.average_wage_fen(region, year) * self.cap_percent // 100


def load_base_policy() -> BasePolicy:
    text = files("chs_enrollment").joinpath("contribution_bases.json").read_text("utf-8")
    return BasePolicy.model_validate(json.loads(text))


BASES = load_base_policy()
