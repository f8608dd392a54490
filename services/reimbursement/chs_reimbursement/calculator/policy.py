"""Policy parameters: data per pooling region and year, one file ``policies/<region>-<year>.json``
each, validated when loaded. A bad file is refused with ``InvalidPolicy`` naming the field
(e.g. ``critical_illness.tiers.1.ratio_permille: ...``).

Money is integer fen, ratios integer per-mille; floats and booleans are refused. Keys ``"1"``,
``"2"``, ``"3"`` are hospital levels, ``"310"`` / ``"390"`` insured types (employee / resident).

- ``basic.inpatient``: ``deductible_fen`` by level (once per admission), ``ratio_permille`` by
  insured type and level, ``annual_cap_fen`` by insured type.
- ``basic.outpatient`` (门诊统筹): ``deductible_fen`` by insured type (once a year),
  ``ratio_permille`` by insured type and level, ``annual_cap_fen`` by insured type.
- ``critical_illness`` (392, residents only): ``threshold_fen`` a year on the eligible self-pay
  left after basic insurance; ``tiers`` of the amount above the threshold, each up to
  ``up_to_fen`` (cumulative above the threshold, ascending; the last one ``null``, open) paid at
  ``ratio_permille``; ``annual_cap_fen``; ``assisted``: easier terms for the listed groups (own
  threshold, ``ratio_bonus_permille`` added to each tier up to 1000, own cap or ``null`` = none).
- ``medical_assistance.groups``: per assisted group an annual ``deductible_fen``,
  ``ratio_permille`` and ``annual_cap_fen`` (``null`` = none). The list is in priority order: a
  person in several groups is assisted under the first listed.
- ``remote_care.temporary_first_self_pay_permille``: the first self-pay share of temporary
  remote care (临时外出就医, ≤ 100 ‰), taken off the eligible amount before the deductible.
- ``claims.deadline_days``: a manual claim (手工报销) is accepted up to this many days after the
  last service day.
"""

import json
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chs_reimbursement.calculator.model import ASSISTED_GROUPS

Fen = Annotated[int, Field(strict=True, ge=0, le=10**12)]
Permille = Annotated[int, Field(strict=True, ge=0, le=1000)]


class InvalidPolicy(ValueError):
    pass


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ByLevel(_Frozen):
    level_1: int = Field(alias="1", strict=True, ge=0, le=10**12)
    level_2: int = Field(alias="2", strict=True, ge=0, le=10**12)
    level_3: int = Field(alias="3", strict=True, ge=0, le=10**12)

    def of(self, level: int) -> int:
        return getattr(self, f"level_{level}")


class RatioByLevel(ByLevel):
    @model_validator(mode="after")
    def _permille(self) -> "RatioByLevel":
        for level in (1, 2, 3):
            if self.of(level) > 1000:
                raise ValueError(f"level {level}: a ratio is at most 1000 per-mille")
        return self


class FenByType(_Frozen):
    employee: Fen = Field(alias="310")
    resident: Fen = Field(alias="390")

    def of(self, insutype: str) -> int:
        return self.employee if insutype == "310" else self.resident


class RatioByType(_Frozen):
    employee: RatioByLevel = Field(alias="310")
    resident: RatioByLevel = Field(alias="390")

    def of(self, insutype: str, level: int) -> int:
        return (self.employee if insutype == "310" else self.resident).of(level)


class Inpatient(_Frozen):
    deductible_fen: ByLevel
    ratio_permille: RatioByType
    annual_cap_fen: FenByType


class Outpatient(_Frozen):
    deductible_fen: FenByType
    ratio_permille: RatioByType
    annual_cap_fen: FenByType


class Basic(_Frozen):
    inpatient: Inpatient
    outpatient: Outpatient


class CriticalIllnessTier(_Frozen):
    up_to_fen: Fen | None
    ratio_permille: Permille


class AssistedTerms(_Frozen):
    groups: tuple[str, ...] = Field(min_length=1)
    threshold_fen: Fen
    ratio_bonus_permille: Permille
    annual_cap_fen: Fen | None


class CriticalIllness(_Frozen):
    threshold_fen: Fen
    tiers: tuple[CriticalIllnessTier, ...] = Field(min_length=1)
    annual_cap_fen: Fen
    assisted: AssistedTerms | None = None

    @model_validator(mode="after")
    def _tiers_ascend(self) -> "CriticalIllness":
        bounds = [tier.up_to_fen for tier in self.tiers]
        if bounds[-1] is not None:
            raise ValueError("tiers: the last tier must be open (up_to_fen null)")
        if None in bounds[:-1]:
            raise ValueError("tiers: only the last tier may be open (up_to_fen null)")
        closed = [bound for bound in bounds[:-1] if bound is not None]
        if any(low >= high for low, high in zip([0, *closed], closed, strict=False)):
            raise ValueError("tiers: up_to_fen must be positive and strictly ascending")
        if self.assisted is not None:
            _known_groups(self.assisted.groups, "assisted.groups")
        return self


class AssistanceGroup(_Frozen):
    group: str
    deductible_fen: Fen
    ratio_permille: Permille
    annual_cap_fen: Fen | None


class MedicalAssistance(_Frozen):
    groups: tuple[AssistanceGroup, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _groups_known_once(self) -> "MedicalAssistance":
        codes = [g.group for g in self.groups]
        _known_groups(codes, "groups")
        if len(set(codes)) != len(codes):
            raise ValueError("groups: a group is listed twice")
        return self

    def terms_for(self, groups: frozenset[str]) -> AssistanceGroup | None:
        """The first listed group the person belongs to, or None."""
        return next((g for g in self.groups if g.group in groups), None)


class RemoteCare(_Frozen):
    temporary_first_self_pay_permille: int = Field(strict=True, ge=0, le=100)


class Claims(_Frozen):
    deadline_days: int = Field(strict=True, ge=1, le=3650)


class Policy(_Frozen):
    region: str = Field(pattern=r"^[0-9]{6}$")
    year: int = Field(strict=True, ge=2000, le=2100)
    name: str = Field(min_length=1, max_length=100)
    basic: Basic
    critical_illness: CriticalIllness
    medical_assistance: MedicalAssistance
    remote_care: RemoteCare
    claims: Claims


def _known_groups(codes: Any, where: str) -> None:
    unknown = sorted(set(codes) - set(ASSISTED_GROUPS))
    if unknown:
        raise ValueError(
            f"{where}: unknown assisted groups {unknown}; known: {sorted(ASSISTED_GROUPS)}"
        )


def parse_policy(data: Any) -> Policy:
    """A validated policy from parsed JSON; ``InvalidPolicy`` names each bad field."""
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidPolicy(f"policy invalid: {problems}") from None


@cache
def load_policy(region: str, year: int) -> Policy:
    """The packaged policy of a pooling region and year, validated once per process."""
    resource = files("chs_reimbursement.calculator") / "policies" / f"{region}-{year}.json"
    if not resource.is_file():
        raise InvalidPolicy(f"no policy for region {region} and year {year}")
    policy = parse_policy(json.loads(resource.read_text(encoding="utf-8")))
    if (policy.region, policy.year) != (region, year):
        raise InvalidPolicy(
            f"policy file {region}-{year}.json holds region {policy.region} and year {policy.year}"
        )
    return policy
