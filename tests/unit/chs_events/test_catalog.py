import pytest

from chs_events.asyncapi import asyncapi_document
from chs_events.events import EVENT_TYPES
from chs_events.topics import BY_NAME, CATALOG, REGISTRY_INSTITUTIONS, all_specs, dlq_of

pytestmark = pytest.mark.unit


def test_every_event_type_belongs_to_a_catalog_topic():
    for model in EVENT_TYPES.values():
        assert model.topic in BY_NAME


def test_every_topic_has_a_dead_letter_topic_with_the_same_partitions():
    specs = {s.name: s for s in all_specs()}
    for spec in CATALOG:
        assert specs[dlq_of(spec.name)].partitions == spec.partitions
    assert len(specs) == 2 * len(CATALOG)


def test_asyncapi_lists_each_event_under_its_topic():
    document = asyncapi_document()
    enrollment = document["channels"]["chs_enrollment_events"]
    assert enrollment["address"] == "chs.enrollment.events"
    assert "chs_enrollment_registered_v1" in enrollment["messages"]
    assert len(document["components"]["messages"]) == len(EVENT_TYPES)


def test_the_institutions_registry_is_compacted_and_keyed_by_the_institution_code():
    spec = BY_NAME[REGISTRY_INSTITUTIONS]
    assert (spec.producer, spec.consumers, spec.key, spec.partitions) == (
        "enrollment",
        ("reimbursement", "chronic"),
        "institution_code",
        1,
    )
    assert spec.configs["cleanup.policy"] == "compact"
    assert spec.event_types == (
        "chs.registry.institution.registered.v1",
        "chs.registry.institution.changed.v1",
    )
    channel = asyncapi_document()["channels"]["chs_registry_institutions"]
    assert channel["address"] == REGISTRY_INSTITUTIONS
    message = asyncapi_document()["components"]["messages"][
        "chs_registry_institution_registered_v1"
    ]
    assert message["bindings"]["kafka"]["key"]["description"] == "institution_code"
    assert "institution_code" in message["payload"]["required"]
