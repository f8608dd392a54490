"""A segment: which profiles a campaign is for (pure, no I/O).

``Segment`` is the rule as a campaign request gives it (and ``POST /segments/preview``); every
criterion given must hold, a list criterion by any of its values. Whatever the rule says, a
profile matches only when the person is alive and has not opted out of push; enrolled (an open
enrollment) unless ``enrolled_only`` is false.

``compiled(segment, today)`` turns the rule into a predicate once: the day-dependent bounds (the
birth days of an age range, the first day of a maternity window) computed for ``today``, each
criterion a test of a profile's derived fields (``Profile.insutypes``, ``birth_ordinal``, …), the
criteria not given left out. ``matches`` is the predicate of one rule on one profile.
``bench/push.py`` measures the matching.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chs_events.events.remote_care import FilingCategory
from chs_push.rules import conditions
from chs_push.rules.profile import ELDERLY_AGE, Profile

InsuredType = Literal["310", "390", "392"]
RegionPrefix = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$",
        description="A GB/T 2260 code or its leading part: 37 (Shandong), 3702 (Qingdao), 370202",
    ),
]
Age = Annotated[int, Field(ge=0, le=150)]

Predicate = Callable[[Profile], bool]


class Segment(BaseModel):
    """Who a campaign is for: every criterion given must hold (a list: any of its values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    insured_types: list[InsuredType] | None = Field(
        default=None,
        min_length=1,
        description="310 employee basic, 390 resident basic, 392 resident critical illness",
    )
    region_prefix: RegionPrefix | None = Field(
        default=None, description="Of the pooling region (of the newest open enrollment)"
    )
    age_min: Age | None = Field(default=None, description="Age on the day asked, at least")
    age_max: Age | None = Field(default=None, description="Age on the day asked, at most")
    elderly: bool | None = Field(default=None, description="Aged 60 or more (true) or not")
    sex: Literal["M", "F"] | None = None
    employer_id: str | None = Field(default=None, min_length=1, max_length=64)
    conditions: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Certified chronic or special conditions: codes of the catalog, or "
        "categories (circulatory, endocrine, …, chronic, special)",
    )
    filing_category: FilingCategory | None = Field(
        default=None,
        description="A remote-care filing of this category, active (not revoked or expired)",
    )
    maternity_within_days: int | None = Field(
        default=None, gt=0, le=3660, description="A birth with an allowance in the last N days"
    )
    assisted_groups: list[str] | None = Field(default=None, min_length=1)
    enrolled_only: bool = Field(default=True, description="Only persons with an open enrollment")

    @field_validator("conditions")
    @classmethod
    def _known_conditions(cls, names: list[str] | None) -> list[str] | None:
        if names is not None:
            unknown = [n for n in names if n not in conditions.CODES | conditions.CATEGORIES.keys()]
            if unknown:
                raise ValueError(f"not a condition code or category: {', '.join(unknown)}")
        return names

    @model_validator(mode="after")
    def _ages_in_order(self) -> "Segment":
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for a 29th in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def latest_birth(today: date, age: int) -> int:
    """The last birth day (ordinal) of a person ``age`` or older on ``today``."""
    return years_before(today, age).toordinal()


def _all(checks: list[Predicate]) -> Predicate:
    def predicate(profile: Profile) -> bool:
        for check in checks:  # noqa: SIM110 - a loop, not all() of a generator: faster
            if not check(profile):
                return False
        return True

    return predicate


def compiled(segment: Segment, today: date) -> Predicate:
    """The rule as one predicate over profiles, for ``today``."""
    checks: list[Predicate] = [lambda p: p.date_of_death is None and not p.opted_out]
    if segment.enrolled_only:
        checks.append(lambda p: bool(p.enrollments))
    if segment.insured_types is not None:
        types = frozenset(segment.insured_types)
        checks.append(lambda p: not types.isdisjoint(p.insutypes))
    if segment.region_prefix is not None:
        prefix = segment.region_prefix
        checks.append(lambda p: p.region is not None and p.region.startswith(prefix))
    if segment.age_min is not None or segment.age_max is not None or segment.elderly is not None:
        # Born on or before ``last`` (old enough) and after ``first`` (young enough).
        last, first = date.max.toordinal(), 0
        if segment.age_min is not None:
            last = min(last, latest_birth(today, segment.age_min))
        if segment.age_max is not None:
            first = max(first, latest_birth(today, segment.age_max + 1))
        if segment.elderly is True:
            last = min(last, latest_birth(today, ELDERLY_AGE))
        elif segment.elderly is False:
            first = max(first, latest_birth(today, ELDERLY_AGE))
        checks.append(lambda p: p.birth_ordinal is not None and first < p.birth_ordinal <= last)
    if segment.sex is not None:
        sex = segment.sex
        checks.append(lambda p: p.sex == sex)
    if segment.employer_id is not None:
        employer = segment.employer_id
        checks.append(lambda p: p.employer_id == employer)
    if segment.conditions is not None:
        codes = conditions.codes_of(segment.conditions)
        checks.append(lambda p: not codes.isdisjoint(p.condition_codes))
    if segment.filing_category is not None:
        category = segment.filing_category
        checks.append(lambda p: category in p.filing_categories)
    if segment.maternity_within_days is not None:
        since = (today - timedelta(days=segment.maternity_within_days)).toordinal()
        until = today.toordinal()
        checks.append(
            lambda p: p.maternity_ordinal is not None and since <= p.maternity_ordinal <= until
        )
    if segment.assisted_groups is not None:
        groups = frozenset(segment.assisted_groups)
        checks.append(lambda p: not groups.isdisjoint(p.assisted_groups))
    return checks[0] if len(checks) == 1 else _all(checks)


def matches(segment: Segment, profile: Profile, today: date) -> bool:
    return compiled(segment, today)(profile)


# --- an agency's region ----------------------------------------------------------------------


def region_prefix_of(region_code: str) -> str:
    """The leading part of the codes within a region: 370000 → 37, 370200 → 3702, 370202."""
    if region_code.endswith("0000"):
        return region_code[:2]
    if region_code.endswith("00"):
        return region_code[:4]
    return region_code


class OutsideRegion(ValueError):
    """The segment names a region the caller does not serve."""


def within(segment: Segment, served: str) -> Segment:
    """The segment narrowed to the region ``served`` (an agency's): its region prefix, or the
    segment's own when that is within it; ``OutsideRegion`` when the two do not meet."""
    area = region_prefix_of(served)
    asked = segment.region_prefix
    if asked is None or area.startswith(asked):
        return segment.model_copy(update={"region_prefix": area})
    if asked.startswith(area):
        return segment
    raise OutsideRegion(f"region {asked} is outside {served}")
