from datetime import UTC, date, datetime

import orjson
import pytest

from chs_events.envelope import Envelope, InvalidEnvelope
from chs_events.events import EVENT_TYPES, json_schema
from chs_events.events.contacts import PersonContact
from chs_events.events.enrollment import ContributionPaid
from chs_events.topics import BY_NAME

pytestmark = pytest.mark.unit


def contact_changed(**overrides) -> Envelope:
    return Envelope(
        PersonContact(
            person_id="p" + "a" * 32,
            name="张伟",
            mobile="13853212345",
            birth_date=date(1990, 3, 7),
        ),
        source="/chs/enrollment",
        **overrides,
    )


def test_round_trip_keeps_every_attribute():
    original = contact_changed(correlation_id="req-1", causation_id="evt-0")
    record = original.to_record()
    assert Envelope.from_record(record.key, record.value, record.headers) == original


def test_binary_mode_headers_and_key():
    envelope = contact_changed(correlation_id="req-1")
    record = envelope.to_record()
    headers = dict(record.headers)
    assert record.key == envelope.event.person_id.encode()
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == envelope.id.encode()
    assert headers["ce_source"] == b"/chs/enrollment"
    assert headers["ce_type"] == b"chs.enrollment.contact.v1"
    assert headers["ce_subject"] == envelope.event.person_id.encode()
    assert headers["content-type"] == b"application/json"
    assert headers["ce_correlationid"] == b"req-1"
    assert orjson.loads(record.value) == {
        "person_id": envelope.event.person_id,
        "name": "张伟",
        "mobile": "13853212345",
        "birth_date": "1990-03-07",
        "guardian_person_id": None,
        "pending": None,
        "deceased_on": None,
    }


def test_ids_are_unique_and_time_ordered():
    ids = [contact_changed().id for _ in range(100)]
    assert len(set(ids)) == 100
    assert ids == sorted(ids)


def test_caused_event_carries_correlation_and_causation():
    first = contact_changed(correlation_id="req-9")
    second = first.caused(first.event, source="/chs/test")
    assert (second.correlation_id, second.causation_id) == ("req-9", first.id)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda k, v, h: (k, b"[1,", h), "value is not JSON"),
        (lambda k, v, h: (k, b'{"person_id": "x"}', h), "name: Field required"),
        (
            lambda k, v, h: (k, v, [(n, b"chs.unknown.v1" if n == "ce_type" else x) for n, x in h]),
            "unknown event type",
        ),
        (lambda k, v, h: (k, v, [x for x in h if x[0] != "ce_specversion"]), "ce_specversion"),
        (lambda k, v, h: (b"someone-else", v, h), "key"),
        (
            lambda k, v, h: (
                k,
                v,
                [(n, b"text/plain" if n == "content-type" else x) for n, x in h],
            ),
            "content-type",
        ),
    ],
)
def test_invalid_records_are_refused_with_the_reason(mutate, reason):
    record = contact_changed().to_record()
    with pytest.raises(InvalidEnvelope, match=reason):
        Envelope.from_record(*mutate(record.key, record.value, record.headers))


def test_money_and_periods_are_validated_on_the_model():
    with pytest.raises(ValueError):
        ContributionPaid(
            person_id="p1",
            payment_id="x",
            enrollment_id="e",
            insutype="310",
            period="202613",
            amount_fen=100,
            employer_part_fen=0,
            personal_part_fen=100,
            paid_at=datetime.now(UTC),
        )


def test_every_event_type_has_a_json_schema_and_a_versioned_name():
    for ce_type, model in EVENT_TYPES.items():
        assert ce_type.startswith("chs.") and ce_type.rsplit(".", 1)[1].startswith("v")
        schema = json_schema(model)
        # the record's key, as the topic's catalog entry names it (person_id but for the
        # institutions registry's institution_code)
        assert BY_NAME[model.topic].key in schema["required"]
        assert schema["$id"].endswith(ce_type)


def test_a_consumer_reads_a_newer_version_of_a_known_event_ignoring_the_fields_it_lacks():
    original = contact_changed()
    record = original.to_record()
    newer = orjson.dumps({**orjson.loads(record.value), "preferred_language": "zh-Hans"})
    assert Envelope.from_record(record.key, newer, record.headers) == original


def test_a_producer_cannot_build_an_event_with_a_field_the_contract_lacks():
    with pytest.raises(ValueError, match="preferred_language"):
        PersonContact(
            person_id="p" + "a" * 32,
            name="张伟",
            mobile="13853212345",
            birth_date=date(1990, 3, 7),
            preferred_language="zh-Hans",  # type: ignore[call-arg]
        )
