"""The allocation rule (划入规则) is policy data, validated when it is loaded.

No I/O but the file."""

import json
from datetime import date

import pytest
from pydantic import ValidationError

from chs_accounts.allocation import AllocationRule, age_on, load_rule
from chs_accounts.settings import DEFAULT_RULE

pytestmark = pytest.mark.unit


def rule(**overrides) -> AllocationRule:
    data = {
        "rule_id": "T-1",
        "personal_part_percent": 100,
        "employer_part_bands": [
            {"min_age": 0, "percent": 0},
            {"min_age": 35, "percent": 5},
            {"min_age": 45, "percent": 10},
        ],
    }
    return AllocationRule.model_validate({**data, **overrides})


def test_the_shipped_rule_loads():
    shipped = load_rule(DEFAULT_RULE)
    assert shipped.personal_part_percent == 100
    assert shipped.employer_part_bands[0].min_age == 0


@pytest.mark.parametrize(
    ("age", "credit"),
    [
        (22, 13000),
        (34, 13000),
        (35, 13000 + 2925),
        (44, 13000 + 2925),
        (45, 13000 + 5850),
        (70, 13000 + 5850),
        (None, 13000),
    ],
)
def test_personal_part_and_an_age_banded_share_of_the_employer_part(age, credit):
    assert rule().credit_fen(13000, 58500, age) == credit


def test_each_part_is_floored_to_whole_fen():
    assert rule(personal_part_percent=50).credit_fen(13001, 101, 40) == 6500 + 5


def test_age_on_the_payment_day():
    born = date(1990, 5, 17)
    assert age_on(born, date(2025, 5, 16)) == 34
    assert age_on(born, date(2025, 5, 17)) == 35
    assert age_on(None, date(2025, 5, 17)) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"personal_part_percent": 101},
        {"personal_part_percent": 12.5},
        {"employer_part_bands": []},
        {"employer_part_bands": [{"min_age": 18, "percent": 0}]},
        {"employer_part_bands": [{"min_age": 0, "percent": 0}, {"min_age": 0, "percent": 5}]},
        {
            "employer_part_bands": [
                {"min_age": 0, "percent": 0},
                {"min_age": 45, "percent": 5},
                {"min_age": 35, "percent": 5},
            ]
        },
        {"employer_part_bands": [{"min_age": 0, "percent": -1}]},
        {"surprise": 1},
    ],
)
def test_a_bad_rule_is_refused_at_load(bad, tmp_path):
    with pytest.raises(ValidationError):
        rule(**bad)
    path = tmp_path / "rule.json"
    path.write_text(json.dumps({**json.loads(DEFAULT_RULE.read_text()), **bad}))
    with pytest.raises(ValueError):
        load_rule(path)
