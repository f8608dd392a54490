"""The registry of designated institutions: names, levels and regions come from it."""

import asyncio
import contextlib
import re
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError

from chs_events import institutions as institutions_module
from chs_events.envelope import Envelope, KafkaRecord
from chs_events.errors import InvalidInput
from chs_events.events.enrollment import ContributionPaid
from chs_events.events.institutions import InstitutionChanged, InstitutionRegistered
from chs_events.institutions import (
    Institution,
    InstitutionCode,
    InstitutionFollower,
    UnknownInstitution,
    all_institutions,
    designated,
    institution,
    learn_record,
    seeded,
    seeded_institutions,
)
from chs_events.regions import region
from chs_events.settings import PlatformSettings
from chs_events.topics import BY_NAME, REGISTRY_INSTITUTIONS

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


# --- the registry learns registered institutions from chs.registry.institutions -----------------


def registered(code: str = "H37021200007", **changes) -> InstitutionRegistered:
    return InstitutionRegistered(
        **{
            "institution_code": code,
            "institution_name": "青岛市崂山区人民医院",
            "institution_level": 2,
            "institution_region": "370212",
            **changes,
        }
    )


def consumed(envelope_or_record, offset: int = 0) -> ConsumerRecord:
    record = (
        envelope_or_record.to_record()
        if isinstance(envelope_or_record, Envelope)
        else envelope_or_record
    )
    return ConsumerRecord(
        topic=REGISTRY_INSTITUTIONS,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=record.key,
        value=record.value,
        checksum=None,
        serialized_key_size=len(record.key),
        serialized_value_size=len(record.value),
        headers=record.headers,
    )


@pytest.fixture
def registry():
    """The process's registry, restored after the test."""
    before = dict(institutions_module._INSTITUTIONS)
    yield institutions_module._INSTITUTIONS
    institutions_module._INSTITUTIONS.clear()
    institutions_module._INSTITUTIONS.update(before)


def test_the_event_is_keyed_and_written_by_the_institution_code():
    record = Envelope(registered(), source="/chs/enrollment").to_record()

    assert record.key == b"H37021200007"
    assert orjson.loads(record.value) == {
        "institution_code": "H37021200007",
        "institution_name": "青岛市崂山区人民医院",
        "institution_level": 2,
        "institution_region": "370212",
    }
    assert registered().subject == registered().institution_code == "H37021200007"
    assert BY_NAME[REGISTRY_INSTITUTIONS].key == "institution_code"
    with pytest.raises(ValidationError):
        registered("X123")


def test_a_registered_institution_is_learned_and_a_later_record_replaces_it(registry):
    with pytest.raises(UnknownInstitution):
        institution("H37021200007")

    learned = learn_record(consumed(Envelope(registered(), source="/chs/enrollment")))
    assert learned == Institution("H37021200007", "青岛市崂山区人民医院", 2, "370212")
    assert institution("H37021200007") == learned
    assert designated("H37021200007", level=2).name == "青岛市崂山区人民医院"

    renamed = InstitutionChanged(
        **{
            **registered().model_dump(),
            "institution_name": "青岛市崂山区中心医院",
            "institution_level": 3,
        }
    )
    assert learn_record(consumed(Envelope(renamed, source="/chs/enrollment"), offset=1)) == (
        Institution("H37021200007", "青岛市崂山区中心医院", 3, "370212")
    )
    assert institution("H37021200007").name == "青岛市崂山区中心医院"
    assert seeded("H37021200007") is None  # the data file's stay as they are
    assert seeded("H37020200017") == institution("H37020200017")
    assert len(seeded_institutions()) < len(all_institutions())


def test_a_record_that_is_not_a_registration_is_skipped(registry):
    before = dict(registry)
    envelope = Envelope(registered(), source="/chs/enrollment")
    record = envelope.to_record()
    broken = KafkaRecord(record.key, b"{not json", record.headers)
    other_key = KafkaRecord(b"H37021200008", record.value, record.headers)
    another_type = Envelope(
        ContributionPaid(
            person_id="p" + "a" * 32,
            payment_id="P1",
            enrollment_id="N1",
            insutype="390",
            period="202501",
            amount_fen=38000,
            employer_part_fen=0,
            personal_part_fen=38000,
            paid_at=datetime.now(UTC),
        ),
        source="/chs/enrollment",
    )

    assert learn_record(consumed(broken)) is None
    assert learn_record(consumed(other_key)) is None
    assert learn_record(consumed(another_type)) is None
    assert registry == before


async def test_the_follower_is_not_ready_before_it_has_read_the_topic():
    follower = InstitutionFollower(
        PlatformSettings(kafka_bootstrap="127.0.0.1:1", topic_prefix="t0."), retry_seconds=60
    )

    assert follower.topic == "t0.chs.registry.institutions"
    assert follower.name == "institutions"
    assert not await follower.ready()
    await follower.start()
    await asyncio.sleep(0.2)  # no broker there: it waits to try again
    await follower.stop()
    assert not await follower.ready()


async def test_the_follower_stops_even_when_a_cancellation_is_swallowed(monkeypatch):
    """aiokafka's client ``close`` suppresses a CancelledError that arrives while it waits."""
    follower = InstitutionFollower(PlatformSettings(kafka_bootstrap="127.0.0.1:1"))
    entered = asyncio.Event()

    async def swallowing() -> None:
        entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)

    monkeypatch.setattr(follower, "_follow", swallowing)
    await follower.start()
    await entered.wait()

    await asyncio.wait_for(follower.stop(), timeout=5)
