"""What a report of a death or an accident case changes (``chs_feeds.model``): published once
whichever source reports it and however often, a later date of death a correction of its own,
a case of one injured person once; and a batch's counts. No I/O."""

from datetime import UTC, date, datetime

import pytest

from chs_events.events.feeds import (
    AccidentCaseRecorded,
    AccidentSource,
    DeathCorrected,
    DeathRecorded,
    DeathSource,
)
from chs_feeds.model import (
    ACCEPTED,
    COMPLETED,
    DUPLICATE,
    INCOMPLETE,
    REJECTED,
    AccidentCase,
    AccidentReport,
    Batch,
    DeathReport,
    Deaths,
    LineOutcome,
    death_record_id,
)

pytestmark = pytest.mark.unit

PERSON = "p" + "a" * 32
MARCH_14, MARCH_16 = date(2026, 3, 14), date(2026, 3, 16)


def death(
    died: date = MARCH_14, source: DeathSource = "civil_affairs", line: int = 2
) -> DeathReport:
    return DeathReport(PERSON, "3707**********451X", died, source, "370783", line)


def test_the_record_id_is_of_the_person_and_the_date() -> None:
    assert death_record_id(PERSON, MARCH_14) == death_record_id(PERSON, MARCH_14)
    assert death_record_id(PERSON, MARCH_14) != death_record_id(PERSON, MARCH_16)
    assert death_record_id(PERSON, MARCH_14) != death_record_id("p" + "b" * 32, MARCH_14)


def test_a_first_death_is_recorded() -> None:
    deaths, reported = Deaths(PERSON).report(death(), batch_id="b1")
    record_id = death_record_id(PERSON, MARCH_14)
    assert reported.event == DeathRecorded(
        person_id=PERSON,
        record_id=record_id,
        date_of_death=MARCH_14,
        source="civil_affairs",
        region_code="370783",
    )
    assert reported.outcome == LineOutcome(2, ACCEPTED, None, "3707**********451X", record_id)
    assert deaths.current == reported.added
    assert reported.added is not None and reported.added.batch_id == "b1"


def test_the_same_death_from_another_source_or_again_is_a_duplicate() -> None:
    deaths, _ = Deaths(PERSON).report(death())
    for source in ("police", "civil_affairs"):
        again, reported = deaths.report(death(source=source, line=9))
        assert again == deaths
        assert reported.event is None and reported.added is None
        assert reported.outcome.outcome == DUPLICATE
        assert reported.outcome.reason == "already recorded, first from civil_affairs"
        assert reported.outcome.line == 9


def test_another_date_of_death_is_a_correction_and_the_earlier_record_superseded() -> None:
    deaths, _ = Deaths(PERSON).report(death())
    deaths, second = deaths.report(death(MARCH_16, "health"))
    new_id = death_record_id(PERSON, MARCH_16)
    assert second.event == DeathCorrected(
        person_id=PERSON,
        record_id=new_id,
        previous_record_id=death_record_id(PERSON, MARCH_14),
        previous_date_of_death=MARCH_14,
        date_of_death=MARCH_16,
        source="health",
        region_code="370783",
    )
    assert second.outcome.outcome == ACCEPTED
    assert second.outcome.reason == "corrects the date of death 2026-03-14"
    assert second.superseded is not None and second.superseded.superseded_by == new_id
    assert deaths.current is not None and deaths.current.record_id == new_id
    # the first date again is known: a duplicate, not a correction back
    again, third = deaths.report(death(MARCH_14, "police"))
    assert third.event is None and again == deaths
    assert third.outcome.reason == "already recorded, first from civil_affairs, since corrected"


def accident(
    day: date = date(2026, 2, 27), source: AccidentSource = "traffic_police"
) -> AccidentReport:
    return AccidentReport(
        PERSON,
        "3707**********451X",
        "C-1",
        day,
        source,
        "鲁G·8K2Q7",
        "370783",
        3,
    )


def test_a_new_case_is_recorded_and_the_insurers_report_of_it_is_a_duplicate() -> None:
    case, outcome, event = AccidentCase.report(accident(), None)
    assert case is not None
    assert event == AccidentCaseRecorded(
        person_id=PERSON,
        case_id="C-1",
        accident_date=date(2026, 2, 27),
        source="traffic_police",
        liable_party="鲁G·8K2Q7",
        region_code="370783",
    )
    assert outcome == LineOutcome(3, ACCEPTED, None, "3707**********451X", "C-1")
    again, duplicate, none = AccidentCase.report(accident(source="insurer"), case)
    assert (again, none) == (None, None)
    assert duplicate.outcome == DUPLICATE and duplicate.record_id == "C-1"


def test_a_case_of_the_person_with_another_date_is_rejected() -> None:
    case, _, _ = AccidentCase.report(accident(), None)
    again, outcome, event = AccidentCase.report(accident(date(2026, 2, 28)), case)
    assert (again, event) == (None, None)
    assert outcome.outcome == REJECTED and outcome.record_id is None
    assert outcome.reason == (
        "case_id: case C-1 was recorded for this person with the accident date 2026-02-27"
    )


def test_a_batch_counts_its_lines_and_closes() -> None:
    batch = Batch("b1", "deaths", "csv", "agency-1").counted(
        [
            LineOutcome(2, ACCEPTED, record_id="r"),
            LineOutcome(3, DUPLICATE, record_id="r"),
            LineOutcome(4, REJECTED, "id_number: missing"),
            LineOutcome(5, REJECTED, "source: missing"),
        ]
    )
    assert (batch.lines, batch.accepted, batch.duplicates, batch.rejected) == (4, 1, 1, 2)
    at = datetime(2026, 3, 20, tzinfo=UTC)
    assert batch.closed(at).status == COMPLETED
    stopped = batch.closed(at, "over 10 lines: read up to line 11")
    assert stopped.status == INCOMPLETE and stopped.completed_at == at
