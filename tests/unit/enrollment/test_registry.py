"""Registering a designated institution: what a registration body accepts and when a code
registered before refuses other data."""

import pytest
from pydantic import ValidationError

from chs_enrollment import examples
from chs_enrollment.registry import check_registration, event_of
from chs_enrollment.schemas import InstitutionCreate, InstitutionUpdate
from chs_events.errors import Conflict
from chs_events.events.institutions import InstitutionChanged, InstitutionRegistered
from chs_events.institutions import Institution, of_event

pytestmark = pytest.mark.unit

LAOSHAN = Institution("H37021200007", "青岛市崂山区人民医院", 2, "370212")


def test_a_new_code_is_registered_and_the_same_data_again_is_not_new():
    assert check_registration(None, LAOSHAN) is True
    assert check_registration(LAOSHAN, LAOSHAN) is False


@pytest.mark.parametrize(
    "other",
    [
        Institution("H37021200007", "青岛市崂山区中医医院", 2, "370212"),
        Institution("H37021200007", "青岛市崂山区人民医院", 3, "370212"),
        Institution("H37021200007", "青岛市崂山区人民医院", 2, "370202"),
    ],
)
def test_other_data_under_a_registered_code_is_a_conflict_naming_the_registered(other):
    with pytest.raises(Conflict) as raised:
        check_registration(LAOSHAN, other)
    assert raised.value.extensions["registered"] == {
        "name": "青岛市崂山区人民医院",
        "level": 2,
        "region": "370212",
    }


def test_the_events_carry_the_institution_as_it_now_is():
    for kind in (InstitutionRegistered, InstitutionChanged):
        event = event_of(kind, LAOSHAN)
        assert isinstance(event, kind)
        assert (event.person_id, event.institution_code) == ("H37021200007", "H37021200007")
        assert of_event(event) == LAOSHAN


def test_the_example_body_is_valid_and_names_are_stripped():
    body = InstitutionCreate.model_validate({**examples.INSTITUTION, "name": " 崂山医院 "})
    assert (body.code, body.name, body.level, body.region) == (
        "H37021200007",
        "崂山医院",
        2,
        "370212",
    )
    assert InstitutionCreate.model_validate(
        {**examples.INSTITUTION, "name": "中国人民解放军第971医院"}
    ).name.endswith("第971医院")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "H3702120000"}, "code"),
        ({"code": "H370212000071"}, "code"),
        ({"code": "37021200007H"}, "code"),
        ({"level": 0}, "level"),
        ({"level": True}, "level"),
        ({"region": "999999"}, "region"),
        ({"name": "院"}, "name"),
        ({"name": "崂山医院 0532-88886666"}, "name"),
        ({"name": "崂山医院 ４００８８８６６６６"}, "name"),
        ({"name": "崂山\x07医院"}, "name"),
        ({"name": "院" * 101}, "name"),
    ],
)
def test_a_bad_registration_names_its_field(changes, field):
    with pytest.raises(ValidationError) as raised:
        InstitutionCreate.model_validate({**examples.INSTITUTION, **changes})
    assert [e["loc"][0] for e in raised.value.errors()] == [field]
    if field in ("name", "level"):
        update = {"name": "崂山医院", "level": 2, **changes}
        with pytest.raises(ValidationError):
            InstitutionUpdate.model_validate(update)


def test_a_change_names_the_name_and_level_only():
    assert InstitutionUpdate.model_validate({"name": " 崂山中心医院", "level": 3}).name == (
        "崂山中心医院"
    )
    for extra in ({"code": "H37021200007"}, {"region": "370212"}):
        with pytest.raises(ValidationError):
            InstitutionUpdate.model_validate({"name": "崂山医院", "level": 2, **extra})
