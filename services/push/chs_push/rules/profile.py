"""A person's push profile, folded from the events (pure, no I/O).

``apply(profile, envelope)`` → the new profile, or ``None`` when the event changes nothing (an
event type the profile does not use, or one applied already): applying an event again changes
nothing, whatever came between. What the profile keeps, and from which events:

- **registration** (``PersonRegistered``, ``NewbornEnrolled``): sex, birth date, the region
  registered in;
- **enrollments** (``EnrollmentRegistered``, ``NewbornEnrolled``; ``StaffAdded`` and
  ``StaffRemoved`` change an enrollment's employer, ``PoolingRegionChanged`` its region): each
  open enrollment with its insured type (310 employee, 390 resident; a resident is in the
  resident critical-illness insurance, 392, too), pooling region and employer. An
  ``EnrollmentTerminated`` closes one for good (its id remembered: a redelivered registration
  does not reopen it). Enrolled: an enrollment is open;
- **death** (``DeathRecorded`` and ``DeathCorrected`` of the feeds, enrollment's
  ``PersonDeceased``, an ``EnrollmentTerminated`` for ``death``): not alive, from that date;
- **chronic certifications** (``ChronicCertified``, ended by ``ChronicRevoked``, expired or
  withdrawn): the condition codes certified (their categories are ``rules.conditions``');
- **chronic applications** (``ChronicApplied`` naming a condition; ``ChronicRejected`` and a
  ``ChronicCertified`` of an application name the condition its application was for): each
  application's id and condition, whatever became of it (the triggers' "not applied for");
- **remote-care filings** (``RemoteCareFiled``; ``RemoteCareRevoked``, ``RemoteCareExpired``
  make one inactive): category, destination, validity, active or not;
- **maternity** (``MaternityAllowanceApproved``, undone by ``MaternityAllowanceCancelled``):
  the day of each birth or miscarriage an allowance was granted for;
- **the push preference** (``PushPreferenceChanged``): opted out or not, the newest by its
  time (an older one redelivered does not undo a newer one);
- **assisted groups** (医疗救助 groups): kept, but no event carries them yet (reimbursement
  records them in its own database only), so they stay empty;
- **elderly**: age ≥ 60 on the day asked, computed (``Profile.age_on``), never stored.

``revision`` counts the changes: the projection (``chs_push.projection``) keeps a row only
when it is not older than the one it has.

Bytes: ``dump``/``load``, a compact orjson array (positional, dates as ordinals).
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import orjson

from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.chronic import (
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
)
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    NewbornEnrolled,
    PersonDeceased,
    PersonRegistered,
    PoolingRegionChanged,
    StaffAdded,
    StaffRemoved,
)
from chs_events.events.feeds import DeathCorrected, DeathRecorded
from chs_events.events.maternity import MaternityAllowanceApproved, MaternityAllowanceCancelled
from chs_events.events.notices import PushPreferenceChanged
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled, RemoteCareRevoked
from chs_events.topics import (
    CHRONIC_EVENTS,
    DEATH_FEED,
    ENROLLMENT_EVENTS,
    MATERNITY_EVENTS,
    NOTICE_PREFERENCES,
    REMOTE_CARE_EVENTS,
)

ELDERLY_AGE = 60
RESIDENT, EMPLOYEE, RESIDENT_CRITICAL_ILLNESS = "390", "310", "392"

SOURCE_TOPICS = (
    ENROLLMENT_EVENTS,
    DEATH_FEED,
    CHRONIC_EVENTS,
    REMOTE_CARE_EVENTS,
    MATERNITY_EVENTS,
    NOTICE_PREFERENCES,
)
EVENTS: tuple[type[Event], ...] = (
    PersonRegistered,
    NewbornEnrolled,
    EnrollmentRegistered,
    EnrollmentTerminated,
    StaffAdded,
    StaffRemoved,
    PoolingRegionChanged,
    PersonDeceased,
    DeathRecorded,
    DeathCorrected,
    ChronicApplied,
    ChronicCertified,
    ChronicRejected,
    ChronicRevoked,
    RemoteCareFiled,
    RemoteCareRevoked,
    RemoteCareExpired,
    MaternityAllowanceApproved,
    MaternityAllowanceCancelled,
    PushPreferenceChanged,
)
TYPES = frozenset(model.ce_type for model in EVENTS)


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: str
    insutype: str
    region: str
    start_date: date
    employer_id: str | None = None


@dataclass(frozen=True)
class Filing:
    filing_id: str
    category: str
    destination: str
    valid_from: date
    valid_until: date | None
    active: bool = True


@dataclass(frozen=True)
class Profile:
    person_id: str
    revision: int = 0
    sex: str | None = None
    birth_date: date | None = None
    home_region: str | None = None
    enrollments: tuple[Enrollment, ...] = ()  # open
    ended: tuple[str, ...] = ()  # enrollment ids terminated: never reopened
    date_of_death: date | None = None
    conditions: tuple[tuple[str, str], ...] = ()  # (certification id, condition code), in force
    ended_certifications: tuple[str, ...] = ()
    filings: tuple[Filing, ...] = ()
    allowances: tuple[tuple[str, date], ...] = ()  # (allowance id, day of the birth)
    cancelled_allowances: tuple[str, ...] = ()
    assisted_groups: frozenset[str] = frozenset()
    opted_out: bool = False
    preference_at: datetime | None = None
    # (application id, condition code): applied for, whatever the outcome
    applications: tuple[tuple[str, str], ...] = ()

    # Derived once, for the matcher (not serialized, not compared).
    insutypes: frozenset[str] = field(init=False, compare=False, repr=False)
    region: str | None = field(init=False, compare=False, repr=False)
    employer_id: str | None = field(init=False, compare=False, repr=False)
    condition_codes: frozenset[str] = field(init=False, compare=False, repr=False)
    applied_codes: frozenset[str] = field(init=False, compare=False, repr=False)
    filing_categories: frozenset[str] = field(init=False, compare=False, repr=False)
    maternity_date: date | None = field(init=False, compare=False, repr=False)
    birth_ordinal: int | None = field(init=False, compare=False, repr=False)
    maternity_ordinal: int | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        types = {e.insutype for e in self.enrollments}
        if RESIDENT in types:
            types.add(RESIDENT_CRITICAL_ILLNESS)
        put(self, "insutypes", frozenset(types))
        newest = max(self.enrollments, key=lambda e: e.start_date, default=None)
        put(self, "region", newest.region if newest is not None else self.home_region)
        employed = [e for e in self.enrollments if e.employer_id is not None]
        put(
            self,
            "employer_id",
            max(employed, key=lambda e: e.start_date).employer_id if employed else None,
        )
        put(self, "condition_codes", frozenset(code for _, code in self.conditions))
        put(self, "applied_codes", frozenset(code for _, code in self.applications))
        put(self, "filing_categories", frozenset(f.category for f in self.filings if f.active))
        newest_birth = max((day for _, day in self.allowances), default=None)
        put(self, "maternity_date", newest_birth)
        put(self, "birth_ordinal", None if self.birth_date is None else self.birth_date.toordinal())
        put(self, "maternity_ordinal", None if newest_birth is None else newest_birth.toordinal())

    @property
    def alive(self) -> bool:
        return self.date_of_death is None

    @property
    def enrolled(self) -> bool:
        return bool(self.enrollments)

    def age_on(self, day: date) -> int | None:
        born = self.birth_date
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def elderly_on(self, day: date) -> bool:
        age = self.age_on(day)
        return age is not None and age >= ELDERLY_AGE

    def active_filings(self, day: date) -> tuple[Filing, ...]:
        return tuple(
            f
            for f in self.filings
            if f.active and f.valid_from <= day and (f.valid_until is None or day <= f.valid_until)
        )


# --- the fold --------------------------------------------------------------------------------


def _with_enrollment(profile: Profile, enrollment: Enrollment) -> Profile:
    if enrollment.enrollment_id in profile.ended or any(
        e.enrollment_id == enrollment.enrollment_id for e in profile.enrollments
    ):
        return profile
    return replace(profile, enrollments=(*profile.enrollments, enrollment))


def _changed_enrollment(profile: Profile, enrollment_id: str, **changes: Any) -> Profile:
    return replace(
        profile,
        enrollments=tuple(
            replace(e, **changes) if e.enrollment_id == enrollment_id else e
            for e in profile.enrollments
        ),
    )


def _dead(profile: Profile, day: date) -> Profile:
    return replace(profile, date_of_death=day)


def _applied(profile: Profile, application_id: str | None, code: str | None) -> Profile:
    if application_id is None or code is None or (application_id, code) in profile.applications:
        return profile
    return replace(profile, applications=(*profile.applications, (application_id, code)))


def _fold(profile: Profile, event: Event) -> Profile:
    match event:
        case PersonRegistered():
            return replace(
                profile, sex=event.sex, birth_date=event.birth_date, home_region=event.region_code
            )
        case NewbornEnrolled():
            born = replace(
                profile,
                birth_date=event.birth_date,
                home_region=profile.home_region or event.pooling_region,
            )
            return _with_enrollment(
                born,
                Enrollment(event.enrollment_id, RESIDENT, event.pooling_region, event.start_date),
            )
        case EnrollmentRegistered():
            return _with_enrollment(
                profile,
                Enrollment(
                    event.enrollment_id,
                    event.insutype,
                    event.pooling_region,
                    event.start_date,
                    event.employer_id,
                ),
            )
        case EnrollmentTerminated():
            ended = profile
            if event.enrollment_id not in profile.ended:
                ended = replace(
                    profile,
                    enrollments=tuple(
                        e for e in profile.enrollments if e.enrollment_id != event.enrollment_id
                    ),
                    ended=(*profile.ended, event.enrollment_id),
                )
            if event.reason == "death" and ended.date_of_death is None:
                ended = _dead(ended, event.end_date)
            return ended
        case StaffAdded():
            return _changed_enrollment(profile, event.enrollment_id, employer_id=event.employer_id)
        case StaffRemoved():
            return replace(
                profile,
                enrollments=tuple(
                    replace(e, employer_id=None)
                    if e.enrollment_id == event.enrollment_id and e.employer_id == event.employer_id
                    else e
                    for e in profile.enrollments
                ),
            )
        case PoolingRegionChanged():
            return _changed_enrollment(profile, event.enrollment_id, region=event.to_region)
        case DeathRecorded():  # a first report: a correction after it stands
            return profile if profile.date_of_death else _dead(profile, event.date_of_death)
        case PersonDeceased() | DeathCorrected():
            return _dead(profile, event.date_of_death)
        case ChronicApplied() | ChronicRejected():
            return _applied(profile, event.application_id, event.condition_code)
        case ChronicCertified():
            applied = _applied(profile, event.application_id, event.condition_code)
            if event.certification_id in profile.ended_certifications or any(
                c == event.certification_id for c, _ in profile.conditions
            ):
                return applied
            held = (event.certification_id, event.condition_code)
            return replace(applied, conditions=(*applied.conditions, held))
        case ChronicRevoked():
            if event.certification_id in profile.ended_certifications:
                return profile
            return replace(
                profile,
                conditions=tuple(c for c in profile.conditions if c[0] != event.certification_id),
                ended_certifications=(*profile.ended_certifications, event.certification_id),
            )
        case RemoteCareFiled():
            if any(f.filing_id == event.filing_id for f in profile.filings):
                return profile
            filing = Filing(
                event.filing_id,
                event.category,
                event.destination_region,
                event.valid_from,
                event.valid_until,
            )
            return replace(profile, filings=(*profile.filings, filing))
        case RemoteCareRevoked() | RemoteCareExpired():
            ended_filing = Filing(
                event.filing_id,
                event.category,
                event.destination_region,
                event.valid_from,
                event.valid_until,
                active=False,
            )
            kept = tuple(f for f in profile.filings if f.filing_id != event.filing_id)
            return replace(
                profile,
                filings=tuple(
                    ended_filing if f.filing_id == event.filing_id else f for f in profile.filings
                )
                if len(kept) < len(profile.filings)
                else (*profile.filings, ended_filing),
            )
        case MaternityAllowanceApproved():
            if event.allowance_id in profile.cancelled_allowances or any(
                a == event.allowance_id for a, _ in profile.allowances
            ):
                return profile
            granted = (event.allowance_id, event.event_date)
            return replace(profile, allowances=(*profile.allowances, granted))
        case MaternityAllowanceCancelled():
            if event.allowance_id in profile.cancelled_allowances:
                return profile
            return replace(
                profile,
                allowances=tuple(a for a in profile.allowances if a[0] != event.allowance_id),
                cancelled_allowances=(*profile.cancelled_allowances, event.allowance_id),
            )
        case PushPreferenceChanged():
            if profile.preference_at is not None and event.at < profile.preference_at:
                return profile
            return replace(profile, opted_out=event.opted_out, preference_at=event.at)
    return profile


def apply(profile: Profile | None, source: Envelope | Event) -> Profile | None:
    """The profile with the event applied (a new one for a person not seen yet); ``None`` when
    the event changes nothing."""
    event = source.event if isinstance(source, Envelope) else source
    if event.ce_type not in TYPES:
        return None
    before = profile if profile is not None else Profile(event.person_id)
    after = _fold(before, event)
    if after == before:
        return None
    return replace(after, revision=before.revision + 1)


# --- bytes -----------------------------------------------------------------------------------


def _day(value: int | None) -> date | None:
    return None if value is None else date.fromordinal(value)


def _ordinal(value: date | None) -> int | None:
    return None if value is None else value.toordinal()


def dump(profile: Profile) -> bytes:
    p = profile
    return orjson.dumps(
        [
            p.person_id,
            p.revision,
            p.sex,
            _ordinal(p.birth_date),
            p.home_region,
            [
                [e.enrollment_id, e.insutype, e.region, e.start_date.toordinal(), e.employer_id]
                for e in p.enrollments
            ],
            list(p.ended),
            _ordinal(p.date_of_death),
            [list(c) for c in p.conditions],
            list(p.ended_certifications),
            [
                [
                    f.filing_id,
                    f.category,
                    f.destination,
                    f.valid_from.toordinal(),
                    _ordinal(f.valid_until),
                    int(f.active),
                ]
                for f in p.filings
            ],
            [[a, day.toordinal()] for a, day in p.allowances],
            list(p.cancelled_allowances),
            sorted(p.assisted_groups),
            int(p.opted_out),
            None if p.preference_at is None else p.preference_at.isoformat(),
            [list(a) for a in p.applications],
        ]
    )


def load(stored: bytes | None) -> Profile | None:
    if not stored:
        return None
    fields = orjson.loads(stored)
    # A profile stored before the applications were kept has none (16 fields).
    applications = fields[16] if len(fields) > 16 else []
    (
        person_id,
        revision,
        sex,
        birth,
        home_region,
        enrollments,
        ended,
        death,
        conditions,
        ended_certifications,
        filings,
        allowances,
        cancelled,
        groups,
        opted_out,
        preference_at,
    ) = fields[:16]
    return Profile(
        person_id,
        revision,
        sex,
        _day(birth),
        home_region,
        tuple(
            Enrollment(eid, insutype, region, date.fromordinal(start), employer)
            for eid, insutype, region, start, employer in enrollments
        ),
        tuple(ended),
        _day(death),
        tuple((cid, code) for cid, code in conditions),
        tuple(ended_certifications),
        tuple(
            Filing(fid, category, dest, date.fromordinal(start), _day(until), bool(active))
            for fid, category, dest, start, until, active in filings
        ),
        tuple((aid, date.fromordinal(day)) for aid, day in allowances),
        tuple(cancelled),
        frozenset(groups),
        bool(opted_out),
        None if preference_at is None else datetime.fromisoformat(preference_at),
        tuple((aid, code) for aid, code in applications),
    )
