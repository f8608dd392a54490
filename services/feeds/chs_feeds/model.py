"""The feeds' aggregates: a person's death records, a traffic-accident case and a batch with
its per-line report. Plain dataclasses; each method returns the new state and the event it
raises (or the line's outcome when it raises none). No I/O.

Record ids are deterministic, so a record is published once however often and by whichever
source it arrives: a death's is uuid5 of the person id and the date of death; an accident's is
the police case id with the injured person (one case may injure several people; the police and
the insurer report the same case of the same person once).
"""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from chs_events.events.base import Event
from chs_events.events.feeds import (
    AccidentCaseRecorded,
    AccidentSource,
    DeathCorrected,
    DeathRecorded,
    DeathSource,
)

Outcome = Literal["accepted", "duplicate", "rejected"]
ACCEPTED: Outcome = "accepted"
DUPLICATE: Outcome = "duplicate"
REJECTED: Outcome = "rejected"

FeedKind = Literal["deaths", "accidents"]
DEATHS: FeedKind = "deaths"
ACCIDENTS: FeedKind = "accidents"
BatchStatus = Literal["receiving", "completed", "incomplete"]
RECEIVING: BatchStatus = "receiving"
COMPLETED: BatchStatus = "completed"
INCOMPLETE: BatchStatus = "incomplete"

# The namespace of death record ids (uuid5 of "death:<person_id>:<date of death>").
DEATH_RECORDS = uuid.UUID("6f1d3c58-2b7e-5a4c-9e0f-3a6c1d2e4b70")


@dataclass(frozen=True)
class DeathReport:
    """A valid death row: the person (the ID number's HMAC and its masked form only)."""

    person_id: str
    id_number: str  # masked: 3702**********1234
    date_of_death: date
    source: DeathSource
    region_code: str
    line: int | None = None


@dataclass(frozen=True)
class AccidentReport:
    person_id: str
    id_number: str  # masked
    case_id: str
    accident_date: date
    source: AccidentSource
    liable_party: str
    region_code: str
    line: int | None = None


@dataclass(frozen=True)
class LineOutcome:
    """What became of one line (or one record sent alone): ``record_id`` for an accepted or
    duplicate one, ``reason`` for a duplicate, a correction or a rejection."""

    line: int | None
    outcome: Outcome
    reason: str | None = None
    id_number: str | None = None  # masked
    record_id: str | None = None


def rejected(line: int | None, reason: str, id_number: str | None = None) -> LineOutcome:
    return LineOutcome(line, REJECTED, reason, id_number)


def death_record_id(person_id: str, date_of_death: date) -> str:
    return str(uuid.uuid5(DEATH_RECORDS, f"death:{person_id}:{date_of_death.isoformat()}"))


@dataclass(frozen=True)
class Death:
    """One death record of a person; ``superseded_by`` the record that corrected it."""

    record_id: str
    person_id: str
    date_of_death: date
    source: DeathSource  # the first source that reported it
    region_code: str
    superseded_by: str | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class Reported:
    """What a report changed: the record added (and the one it supersedes), its event, and the
    line's outcome."""

    outcome: LineOutcome
    added: Death | None = None
    superseded: Death | None = None
    event: Event | None = None


@dataclass(frozen=True)
class Deaths:
    """A person's death records: at most one current, the others corrected by a later one."""

    person_id: str
    records: tuple[Death, ...] = ()

    @property
    def current(self) -> Death | None:
        return next((r for r in self.records if r.superseded_by is None), None)

    def report(self, report: DeathReport, batch_id: str | None = None) -> tuple["Deaths", Reported]:
        """A record already known is a duplicate (from whichever source); another date than
        the current record's is a correction (``DeathCorrected``); else ``DeathRecorded``."""
        record_id = death_record_id(report.person_id, report.date_of_death)
        known = next((r for r in self.records if r.record_id == record_id), None)
        if known is not None:
            reason = f"already recorded, first from {known.source}"
            if known.superseded_by is not None:
                reason += ", since corrected"
            return self, Reported(
                LineOutcome(report.line, DUPLICATE, reason, report.id_number, record_id)
            )
        added = Death(
            record_id,
            report.person_id,
            report.date_of_death,
            report.source,
            report.region_code,
            batch_id=batch_id,
        )
        previous = self.current
        if previous is None:
            outcome = LineOutcome(report.line, ACCEPTED, None, report.id_number, record_id)
            return replace(self, records=(*self.records, added)), Reported(
                outcome, added, event=DeathRecorded.of(added)
            )
        superseded = replace(previous, superseded_by=record_id)
        corrected = DeathCorrected.of(
            added,
            previous_record_id=previous.record_id,
            previous_date_of_death=previous.date_of_death,
        )
        reason = f"corrects the date of death {previous.date_of_death.isoformat()}"
        records = tuple(superseded if r is previous else r for r in self.records)
        return replace(self, records=(*records, added)), Reported(
            LineOutcome(report.line, ACCEPTED, reason, report.id_number, record_id),
            added,
            superseded,
            corrected,
        )


@dataclass(frozen=True)
class AccidentCase:
    """A traffic-accident case of one injured person, as first reported."""

    case_id: str
    person_id: str
    accident_date: date
    source: AccidentSource
    liable_party: str
    region_code: str
    batch_id: str | None = None

    @classmethod
    def report(
        cls, report: AccidentReport, known: "AccidentCase | None", batch_id: str | None = None
    ) -> tuple["AccidentCase | None", LineOutcome, Event | None]:
        """A new case → ``AccidentCaseRecorded``; the same case of the same person again is a
        duplicate (the police's and the insurer's alike), with another accident date it is
        refused (a case has one date)."""
        if known is not None:
            if known.accident_date != report.accident_date:
                reason = (
                    f"case_id: case {known.case_id} was recorded for this person with the "
                    f"accident date {known.accident_date.isoformat()}"
                )
                return None, rejected(report.line, reason, report.id_number), None
            reason = f"already recorded, first from {known.source}"
            duplicate = LineOutcome(report.line, DUPLICATE, reason, report.id_number, known.case_id)
            return None, duplicate, None
        case = cls(
            report.case_id,
            report.person_id,
            report.accident_date,
            report.source,
            report.liable_party,
            report.region_code,
            batch_id,
        )
        outcome = LineOutcome(report.line, ACCEPTED, None, report.id_number, case.case_id)
        return case, outcome, AccidentCaseRecorded.of(case)


@dataclass(frozen=True)
class Batch:
    """An upload and its counts; its lines' outcomes are kept beside it (``batch_lines``)."""

    batch_id: str
    kind: FeedKind
    format: str
    uploaded_by: str
    status: BatchStatus = RECEIVING
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    stopped_reason: str | None = None
    received_at: datetime | None = None
    completed_at: datetime | None = None

    def counted(self, outcomes: "list[LineOutcome]") -> "Batch":
        return replace(
            self,
            lines=self.lines + len(outcomes),
            accepted=self.accepted + sum(o.outcome == ACCEPTED for o in outcomes),
            duplicates=self.duplicates + sum(o.outcome == DUPLICATE for o in outcomes),
            rejected=self.rejected + sum(o.outcome == REJECTED for o in outcomes),
        )

    def closed(self, at: datetime, stopped_reason: str | None = None) -> "Batch":
        """Completed, or incomplete when the upload stopped before its end (``stopped_reason``:
        over a bound, or cut off)."""
        status = COMPLETED if stopped_reason is None else INCOMPLETE
        return replace(self, status=status, stopped_reason=stopped_reason, completed_at=at)
