"""Names, mobiles and ID numbers go only to ``chs.enrollment.contacts`` (read by notification
alone): every other topic is read widely and kept for months."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from chs_events.events import EVENT_TYPES, json_schema
from chs_events.topics import BY_NAME, ENROLLMENT_CONTACTS

pytestmark = pytest.mark.unit

# A person's contact or identity data, by field name: mobile, phone, tel, id_number, id_no,
# id_card, name (and a person's name: guardian_name, patient_name, …), address, email.
CONTACT_FIELD = re.compile(
    r"(^|_)(mobile|phone|tel|telephone|id_number|id_no|idcard|id_card|address|email)($|_)"
    r"|^name$|(^|_)(person|guardian|newborn|patient|applicant|member|full|given|family)_name$"
)
# Names that are not a person's: an employer, a hospital or pharmacy, a condition.
NOT_A_PERSON = frozenset({"employer_name", "institution_name", "condition_name"})


def field_names(schema: dict[str, Any]) -> Iterator[str]:
    """Every property name of the schema, nested models ($defs) included."""
    yield from schema.get("properties", {})
    for definition in schema.get("$defs", {}).values():
        yield from field_names(definition)


def test_the_pattern_catches_contact_fields() -> None:
    for name in ("mobile", "phone", "name", "id_number", "guardian_name", "new_mobile", "email"):
        assert CONTACT_FIELD.search(name), name
    for name in ("person_id", "employer_name", "template_id", "region_code", "notice_id"):
        assert not CONTACT_FIELD.search(name) or name in NOT_A_PERSON, name


@pytest.mark.parametrize("ce_type", sorted(EVENT_TYPES))
def test_no_event_outside_the_contacts_topic_carries_contact_data(ce_type: str) -> None:
    model = EVENT_TYPES[ce_type]
    if model.topic == ENROLLMENT_CONTACTS:
        return
    found = sorted(
        {n for n in field_names(json_schema(model)) if CONTACT_FIELD.search(n)} - NOT_A_PERSON
    )
    assert not found, f"{ce_type} on {model.topic} carries {found}"


def test_the_contacts_topic_is_compacted_and_for_notification_only() -> None:
    spec = BY_NAME[ENROLLMENT_CONTACTS]
    assert spec.cleanup_policy == "compact" and spec.configs["cleanup.policy"] == "compact"
    assert (spec.producer, spec.consumers, spec.key) == (
        "enrollment",
        ("notification",),
        "person_id",
    )
    assert "ACL" in spec.description
    assert {m.topic for m in EVENT_TYPES.values() if "name" in m.model_fields} == {
        ENROLLMENT_CONTACTS
    }
