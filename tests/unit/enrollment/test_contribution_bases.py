import pytest
from pydantic import ValidationError

from chs_enrollment.contribution_bases import BASES, BasePolicy

pytestmark = pytest.mark.unit

WAGES = {"national": {2025: 1_000_000}, "370000": {2024: 800_000, 2026: 900_000}}


def policy(**changes: object) -> BasePolicy:
    return BasePolicy.model_validate(
        {"cap_percent": 300, "average_monthly_wage_fen": WAGES, **changes}
    )


def test_the_packaged_cap_is_300_percent_of_the_pooling_regions_average_wage():
    assert BASES.cap_percent == 300
    assert BASES.cap_fen("370200", 2025) == 3 * BASES.average_wage_fen("370200", 2025)
    assert BASES.cap_fen("370202", 2025) == BASES.cap_fen("370200", 2025)  # 市南区: Qingdao's


@pytest.mark.parametrize(
    ("region", "year", "wage"),
    [
        ("370202", 2024, 800_000),  # no Qingdao figure here: Shandong's
        ("370202", 2025, 800_000),  # the nearest year before
        ("370202", 2030, 900_000),
        ("370202", 2010, 800_000),  # before every year: the first
        ("460200", 2026, 1_000_000),  # no Hainan figure: the national one
    ],
)
def test_a_region_or_year_not_listed_takes_the_nearest_figure(region, year, wage):
    assert policy().average_wage_fen(region, year) == wage
    assert policy().cap_fen(region, year) == wage * 3


@pytest.mark.parametrize(
    "changes",
    [
        {"cap_percent": 50},
        {"average_monthly_wage_fen": {"370000": {2025: 1}}},  # no national figure
        {"average_monthly_wage_fen": {**WAGES, "379999": {2025: 1}}},
        {"average_monthly_wage_fen": {**WAGES, "370200": {}}},
        {"average_monthly_wage_fen": {**WAGES, "370200": {2025: 0}}},
    ],
)
def test_a_bad_policy_file_is_refused_when_loaded(changes):
    with pytest.raises(ValidationError):
        policy(**changes)
