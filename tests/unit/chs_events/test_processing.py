"""The retry and dead-letter engine (``chs_events.processing``) with in-memory callables: what
it parks, passes over and dead-letters."""

from collections.abc import Collection, Sequence
from datetime import date

import orjson
import pytest
from prometheus_client import REGISTRY

from chs_events.envelope import Envelope
from chs_events.events.enrollment import StaffRemoved
from chs_events.parking import ParkedRecord
from chs_events.processing import Awaiting, BatchFailed, Outcome, RecordProcessor
from chs_events.retry import Backoff
from chs_events.topics import ENROLLMENT_EVENTS

pytestmark = pytest.mark.unit


def record_of(envelope: Envelope, offset: int) -> ParkedRecord:
    """A consumed record (a parked one has the same attributes)."""
    record = envelope.to_record()
    return ParkedRecord(ENROLLMENT_EVENTS, 0, offset, record.key, record.value, record.headers)


def removed(marker: str) -> Envelope:
    return Envelope(
        StaffRemoved(
            person_id="p1", employer_id=marker, enrollment_id="e1", end_date=date(2025, 1, 1)
        ),
        source="/chs/test",
    )


def marker(envelope: Envelope) -> str:
    event = envelope.event
    assert isinstance(event, StaffRemoved)
    return event.employer_id


def other_person(envelope: Envelope) -> Envelope:
    return Envelope(envelope.event.model_copy(update={"person_id": "p2"}), source="/chs/test")


class Harness:
    def __init__(
        self,
        consumer: str,
        *,
        waits_for: Collection[str] = (),
        batches: bool = True,
        releasers: frozenset[str] = frozenset(),
    ):
        self.held: set[bytes] = set()  # keys with parked events
        self.applied: list[str] = []
        self.parked: list[tuple[str, str, str]] = []
        self.dead: list[tuple[str, dict[str, bytes]]] = []
        self.waits_for = waits_for
        self.processor = RecordProcessor(
            consumer,
            self.apply,
            self.publish_dead_letter,
            backoff=Backoff(max_attempts=2, base_delay=0.001, max_delay=0.001),
            apply_all=self.apply_all if batches else None,
            parking=self,
            releasers=releasers,
        )

    def _check(self, envelope: Envelope) -> None:
        if (found := marker(envelope)) in self.waits_for:
            raise Awaiting("marker", found, f"{found} not here yet")

    async def apply(self, envelope: Envelope) -> Outcome:
        self._check(envelope)
        self.applied.append(marker(envelope))
        return Outcome.APPLIED

    async def apply_all(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        done = []
        for index, envelope in enumerate(envelopes):
            try:
                self._check(envelope)
            except Exception as error:
                raise BatchFailed(index, error) from error
            done.append(marker(envelope))
        self.applied += done
        return [Outcome.APPLIED] * len(envelopes)

    async def parked_keys(self, keys: Collection[bytes]) -> set[bytes]:
        return self.held & set(keys)

    async def park(self, record, envelope: Envelope, awaiting: Awaiting | None) -> Outcome:
        what = ("behind", "") if awaiting is None else (awaiting.prerequisite, str(awaiting))
        self.parked.append((marker(envelope), *what))
        self.held.add(record.key)
        return Outcome.PARKED

    async def publish_dead_letter(self, topic, key, value, headers) -> None:
        self.dead.append((topic, dict(headers)))


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("batches", [True, False])
async def test_an_event_awaiting_its_prerequisite_is_parked_and_the_rest_applied(batches):
    harness = Harness(f"unit-parking-{batches}", waits_for={"b"}, batches=batches)
    records = [record_of(removed("a"), 0), record_of(removed("b"), 1)]
    records.append(record_of(other_person(removed("c")), 2))  # not behind it: another person
    await harness.processor.process_all(records)
    assert harness.applied == ["a", "c"]
    assert harness.parked == [("b", "marker:b", "b not here yet")]
    assert harness.dead == []
    consumer = f"unit-parking-{batches}"
    labels = {"consumer": consumer, "topic": ENROLLMENT_EVENTS, "awaiting": "marker"}
    assert sample("chs_events_parked_total", **labels) == 1


@pytest.mark.parametrize("batches", [True, False])
async def test_a_newer_event_of_a_parked_key_waits_behind_it_unless_it_releases(batches):
    harness = Harness(f"unit-behind-{batches}", waits_for={"a"}, batches=batches)
    records = [
        record_of(removed("a"), 0),  # waits for its prerequisite
        record_of(removed("b"), 1),  # the same person's: behind it
        record_of(other_person(removed("c")), 2),  # another person's: applied
    ]
    await harness.processor.process_all(records)
    assert harness.applied == ["c"]
    assert [(m, why) for m, why, _ in harness.parked] == [("a", "marker:a"), ("b", "behind")]

    releasing = Harness(
        f"unit-releaser-{batches}", batches=batches, releasers=frozenset({StaffRemoved.ce_type})
    )
    releasing.held = {b"p1"}  # parked before this batch
    await releasing.processor.process_all([record_of(removed("d"), 3)])
    assert releasing.applied == ["d"] and releasing.parked == []


async def test_without_parking_an_awaiting_event_is_retried_then_dead_lettered():
    harness = Harness("unit-no-parking", waits_for={"b"})
    harness.processor = RecordProcessor(
        "unit-no-parking",
        harness.apply,
        harness.publish_dead_letter,
        backoff=Backoff(max_attempts=2, base_delay=0.001, max_delay=0.001),
    )
    await harness.processor.process_all([record_of(removed("b"), 0)])
    [(topic, headers)] = harness.dead
    assert topic == f"{ENROLLMENT_EVENTS}.dlq"
    assert headers["dlq_error_type"] == b"Awaiting"
    assert headers["dlq_attempts"] == b"2"


async def test_a_type_it_does_not_know_is_passed_over_and_counted():
    harness = Harness("unit-unknown-type")
    newer = record_of(removed("x"), 1)
    newer.headers = [
        (n, b"chs.enrollment.staff_seconded.v1" if n == "ce_type" else v)
        for n, v in newer.headers or ()
    ]
    newer.value = b'{"not": "the known shape"}'
    await harness.processor.process_all(
        [record_of(removed("a"), 0), newer, record_of(removed("b"), 2)]
    )
    assert harness.applied == ["a", "b"]
    assert harness.dead == []
    labels = {"consumer": "unit-unknown-type", "type": "chs.enrollment.staff_seconded.v1"}
    assert sample("chs_events_ignored_total", **labels) == 1


async def test_a_type_it_has_no_handler_for_is_passed_over_and_counted():
    harness = Harness("unit-not-handled")
    harness.processor = RecordProcessor(
        "unit-not-handled",
        harness.apply,
        harness.publish_dead_letter,
        types=frozenset({"chs.enrollment.registered.v1"}),
    )
    await harness.processor.process_all([record_of(removed("a"), 0)])
    assert harness.applied == [] and harness.dead == []
    labels = {"consumer": "unit-not-handled", "type": StaffRemoved.ce_type}
    assert sample("chs_events_ignored_total", **labels) == 1


async def test_a_field_it_does_not_know_is_ignored():
    harness = Harness("unit-extra-field")
    record = record_of(removed("a"), 0)
    record.value = orjson.dumps({**orjson.loads(record.value or b"{}"), "seconded_to": "E2"})
    await harness.processor.process_all([record])
    assert harness.applied == ["a"] and harness.dead == []
