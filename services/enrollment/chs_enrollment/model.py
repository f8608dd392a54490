"""The state the enrollment rules act on: persons, employers, enrollments, payments.

Frozen dataclasses, loaded and stored by ``repository``. Their methods change state: each
returns the new state and the event(s) it raises, after the rules of ``domain`` allow it. No I/O.
"""

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from chs_enrollment import domain
from chs_enrollment.commands import RecordContribution, Sex
from chs_enrollment.contribution_bases import BASES
from chs_events.events.base import Event
from chs_events.events.contacts import PendingMobile, PersonContact
from chs_events.events.enrollment import (
    ContactChanged,
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PersonDeceased,
    PersonRegistered,
    PoolingRegionChanged,
    StaffAdded,
    StaffRemoved,
)
from chs_events.identity import birth_date_from_id_number, sex_from_id_number
from chs_events.read_models import enrollments
from chs_events.vocabulary import EMPLOYEE, Insutype


@dataclass(frozen=True)
class Person:
    person_id: str
    id_number: str | None
    name: str
    sex: Sex
    birth_date: date
    mobile: str | None
    region_code: str
    birth_certificate_no: str | None = None
    guardian_person_id: str | None = None
    deceased_on: date | None = None  # the verified date of death (生存认证)

    @classmethod
    def register(
        cls, person_id: str, id_number: str, name: str, mobile: str, region_code: str
    ) -> tuple["Person", PersonRegistered]:
        """A person known by a (normalized) ID number: sex and birth date come from it."""
        person = cls(
            person_id,
            id_number,
            name,
            sex_from_id_number(id_number),
            birth_date_from_id_number(id_number),
            mobile,
            region_code,
        )
        return person, person.registered()

    @classmethod
    def register_newborn(
        cls,
        person_id: str,
        name: str,
        sex: Sex,
        birth_date: date,
        region_code: str,
        birth_certificate_no: str,
        guardian_person_id: str,
    ) -> tuple["Person", PersonRegistered]:
        """A newborn, known by the birth certificate; no mobile (notices go to the guardian)."""
        person = cls(
            person_id,
            None,
            name,
            sex,
            birth_date,
            None,
            region_code,
            birth_certificate_no,
            guardian_person_id,
        )
        return person, person.registered()

    def registered(self) -> PersonRegistered:
        return PersonRegistered.of(self)

    def contact(self, pending: PendingMobile | None = None) -> PersonContact:
        """The person's contact as it now is, for notification's directory alone."""
        return PersonContact.of(self, pending=pending)

    def change_mobile(
        self, mobile: str
    ) -> tuple["Person", tuple[ContactChanged, PersonContact] | None]:
        """The same (normalized) mobile again changes nothing and raises no event."""
        if mobile == self.mobile:
            return self, None
        changed = replace(self, mobile=mobile)
        return changed, (ContactChanged(person_id=self.person_id), changed.contact())

    def enroll(
        self,
        enrollment_id: str,
        insutype: Insutype,
        pooling_region: str,
        start_date: date,
        enrollments: list["Enrollment"],
        *,
        employer: "Employer | None" = None,
        contribution_base_fen: int | None = None,
        at_birth: bool = False,
    ) -> tuple["Enrollment", EnrollmentRegistered]:
        """A new enrollment from ``start_date``: not of a deceased person, not before birth, one
        open enrollment per insurance type and no overlap with an ended one (``enrollments``:
        the person's); an employee's contribution base within the cap of the pooling region and
        year."""
        domain.check_alive(self.deceased_on)
        domain.check_enrollment_start(self.birth_date, enrollments, insutype, start_date)
        if contribution_base_fen is not None:
            year = start_date.year
            cap_fen = BASES.cap_fen(pooling_region, year)
            domain.check_contribution_base_cap(contribution_base_fen, cap_fen, pooling_region, year)
        enrollment = Enrollment(
            enrollment_id,
            self.person_id,
            insutype,
            pooling_region,
            start_date,
            employer_id=employer.employer_id if employer else None,
            contribution_base_fen=contribution_base_fen,
        )
        return enrollment, enrollment.registered(employer, at_birth=at_birth)

    def die(
        self, date_of_death: date, record_id: str, enrollments: list["Enrollment"]
    ) -> tuple["Person", list["Enrollment"], list[Event]]:
        """The person's death verified on ``date_of_death``, or its date corrected: the person
        recorded deceased, and every enrollment covering a day after the date ended on it
        (``domain.death_end``; ``enrollments``: the person's). The events: PersonDeceased, an
        EnrollmentTerminated (reason death) per enrollment ended or moved, and the contact as
        it now is (notification sends the number only what the family must know). The date
        already recorded changes nothing and raises no event."""
        if self.deceased_on == date_of_death:
            return self, [], []
        dead = replace(self, deceased_on=date_of_death)
        ended: list[Enrollment] = []
        events: list[Event] = [
            PersonDeceased.of(
                dead,
                date_of_death=date_of_death,
                previous_date_of_death=self.deceased_on,
                record_id=record_id,
            )
        ]
        for enrollment in enrollments:
            end = domain.death_end(enrollment, date_of_death)
            if end is not None:
                enrollment, terminated = enrollment.end(end, domain.DEATH)
                ended.append(enrollment)
                events.append(terminated)
        events.append(dead.contact())
        return dead, ended, events


@dataclass(frozen=True)
class ContactChange:
    """A requested mobile, waiting for its one-time code (kept only as a keyed hash)."""

    person_id: str
    mobile: str
    code_hash: str
    expires_at: datetime
    attempts: int = 0  # wrong codes so far

    @classmethod
    def request(
        cls, person: Person, mobile: str, code: str, code_hash: str, now: datetime
    ) -> tuple["ContactChange", PersonContact] | None:
        """None when ``mobile`` is the person's already; else the request and the contact
        carrying it (notification sends the code to the new mobile, and nothing else)."""
        if mobile == person.mobile:
            return None
        change = cls(person.person_id, mobile, code_hash, now + domain.CONTACT_CODE_TTL)
        pending = PendingMobile(mobile=mobile, code=code, expires_at=change.expires_at)
        return change, person.contact(pending)

    def confirm(
        self, person: Person, matches: bool, now: datetime
    ) -> tuple["ContactChange", domain.DomainError | None, tuple[Person, tuple[Event, ...]]]:
        """This attempt: the change as it stands after it (one more attempt), the refusal if
        the code is wrong or no longer valid, and the person with the events of the change
        (none when refused)."""
        tried = replace(self, attempts=self.attempts + 1)
        refused = domain.check_contact_code(matches, tried.attempts, self.expires_at, now)
        if refused is not None:
            return tried, refused, (person, ())
        changed, events = person.change_mobile(self.mobile)
        return tried, None, (changed, events or ())


@dataclass(frozen=True)
class Employer:
    employer_id: str
    name: str
    region_code: str

    def add_staff(
        self,
        person: Person,
        enrollment_id: str,
        contribution_base_fen: int,
        start_date: date,
        enrollments: list["Enrollment"],
    ) -> tuple["Enrollment", tuple[StaffAdded, EnrollmentRegistered]]:
        """增员: an employee (310) enrollment pooled in the employer's region."""
        domain.check_contribution_base(contribution_base_fen)
        enrollment, registered = person.enroll(
            enrollment_id,
            EMPLOYEE,
            self.region_code,
            start_date,
            enrollments,
            employer=self,
            contribution_base_fen=contribution_base_fen,
        )
        return enrollment, (StaffAdded.of(enrollment), registered)

    def remove_staff(
        self,
        enrollments: list["Enrollment"],
        end_date: date,
    ) -> tuple["Enrollment", tuple[StaffRemoved, EnrollmentTerminated]]:
        """减员: the person's open employee (310) enrollment with this employer ends on
        ``end_date`` (``enrollments``: the person's)."""
        enrollment = domain.staff_enrollment(self.employer_id, enrollments, end_date)
        ended, terminated = enrollment.end(end_date, domain.LEFT_EMPLOYER)
        return ended, (StaffRemoved.of(ended), terminated)


@dataclass(frozen=True)
class Enrollment(enrollments.Enrollment):
    """An enrollment as every service knows it (``chs_events.read_models.enrollments``: id,
    person, insured type, pooling region, start and end), with what only this service keeps:
    an employee (310) enrollment's employer and contribution base, and why it ended."""

    insutype: Insutype
    employer_id: str | None = None
    contribution_base_fen: int | None = None
    end_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.end_date is None

    def status_on(self, day: date) -> Literal["active", "terminated"]:
        return "active" if self.end_date is None or self.end_date >= day else "terminated"

    def registered(
        self, employer: Employer | None = None, *, at_birth: bool = False
    ) -> EnrollmentRegistered:
        employer_name = employer.name if employer else None
        return EnrollmentRegistered.of(self, employer_name=employer_name, at_birth=at_birth)

    def end(self, end_date: date, reason: str) -> tuple["Enrollment", EnrollmentTerminated]:
        """The enrollment ends on ``end_date`` (a date it already ended on moves)."""
        ended = replace(self, end_date=end_date, end_reason=reason)
        return ended, EnrollmentTerminated.of(ended, reason=reason)

    def move_pooling_region(
        self, transfer_id: str, from_region: str, to_region: str, changed_on: date
    ) -> tuple["Enrollment", PoolingRegionChanged]:
        """A completed relationship transfer moves an employee (310) enrollment pooled in the
        transfer's ``from_region``; anything else does not fit (``TransferNotApplicable``)."""
        if self.insutype != EMPLOYEE:
            raise domain.TransferNotApplicable(
                f"enrollment {self.enrollment_id} is {self.insutype}, not an employee (310) one"
            )
        if self.pooling_region != from_region:
            raise domain.TransferNotApplicable(
                f"enrollment {self.enrollment_id} pools in {self.pooling_region}, "
                f"not in the transfer's from_region {from_region}"
            )
        return replace(self, pooling_region=to_region), PoolingRegionChanged.of(
            self,
            from_region=from_region,
            to_region=to_region,
            changed_on=changed_on,
            transfer_id=transfer_id,
        )

    def pay(
        self,
        command: RecordContribution,
        paid_periods: Collection[str],
        *,
        birth_date: date,
        today: date,
    ) -> tuple["Payment", ContributionPaid]:
        """A paid contribution for one month of this enrollment (``paid_periods``: the months
        already paid) of a person born on ``birth_date``, paid by ``today``."""
        domain.check_contribution(command, self, paid_periods, birth_date=birth_date, today=today)
        payment = Payment(
            command.payment_id,
            self.enrollment_id,
            self.person_id,
            command.period,
            command.amount_fen,
            command.employer_part_fen,
            command.personal_part_fen,
            command.paid_at,
        )
        return payment, ContributionPaid.of(payment, insutype=self.insutype)


@dataclass(frozen=True)
class Payment:
    payment_id: str
    enrollment_id: str
    person_id: str
    period: str
    amount_fen: int
    employer_part_fen: int
    personal_part_fen: int
    paid_at: datetime
