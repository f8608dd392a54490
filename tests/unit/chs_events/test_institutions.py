"""The registry of designated institutions: names, levels and regions come from it."""

import re

import pytest
from pydantic import BaseModel, ValidationError

from chs_events.errors import InvalidInput
from chs_events.institutions import (
    Institution,
    InstitutionCode,
    UnknownInstitution,
    all_institutions,
    designated,
    institution,
)
from chs_events.regions import region

pytestmark = pytest.mark.unit


def test_a_code_gives_the_registered_institution():
    assert institution("H37020200017") == Institution(
        "H37020200017", "青岛大学附属医院", 3, "370202"
    )
    assert institution("H37078300001").name == "寿光市人民医院"
    assert institution("H37078300001").level == 2


def test_an_unknown_code_is_invalid_input_of_the_code_field():
    with pytest.raises(UnknownInstitution) as raised:
        institution("H37029999999")
    assert isinstance(raised.value, InvalidInput)
    assert raised.value.field == "institution_code"


def test_every_institution_is_well_formed_in_a_known_region():
    codes = [i.code for i in all_institutions()]
    assert len(codes) == len(set(codes))
    for item in all_institutions():
        assert re.fullmatch(r"H[0-9]{11}", item.code), item
        assert item.name and item.level in (1, 2, 3)
        assert region(item.region).code == item.region


def test_designated_accepts_the_registry_s_own_values_only():
    assert designated("H37020200017") == institution("H37020200017")
    assert designated("H37020200017", name="青岛大学附属医院", level=3, region="370202") == (
        institution("H37020200017")
    )
    for stated, field in (
        ({"name": "青岛大学附属医院，请致电 400-000-0000"}, "institution_name"),
        ({"level": 1}, "institution_level"),
        ({"region": "370203"}, "institution_region"),
    ):
        with pytest.raises(InvalidInput) as raised:
            designated("H37020200017", **stated)
        assert raised.value.field == field


def test_the_request_field_refuses_an_unknown_code():
    class Body(BaseModel):
        institution_code: InstitutionCode

    assert Body(institution_code="H46020000003").institution_code == "H46020000003"
    with pytest.raises(ValidationError, match="not a designated institution"):
        Body(institution_code="H00000000000")


@pytest.mark.parametrize(
    "code",
    [
        "H37010000001",
        "H37010200001",
        "H37020000001",
        "H37020200017",
        "H37020200099",
        "H37070000003",
        "H37078300001",
        "H46020000003",
        "H46020200003",
    ],
)
def test_the_institutions_the_tests_and_demos_use_are_registered(code):
    assert institution(code).code == code
