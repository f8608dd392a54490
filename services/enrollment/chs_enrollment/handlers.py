"""Command handlers: each runs in ONE unit of work that loads and locks the state, calls the
aggregate (``model``), saves what it returns and records its events in the outbox. Whatever
concerns a person locks the person's row first. The staff batches and employers are in
``staff``."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import asyncpg
import uuid6

from chs_enrollment import domain, repository
from chs_enrollment.commands import (
    ChangeContact,
    ConfirmContact,
    EnrollEmployee,
    EnrollNewborn,
    EnrollResident,
    MovePoolingRegion,
    RecordContribution,
    RecordDeath,
    RegisterPerson,
)
from chs_enrollment.model import ContactChange, Enrollment, Payment, Person
from chs_enrollment.settings import EnrollmentSettings
from chs_events.clock import now, today
from chs_events.errors import Conflict
from chs_events.events.base import Event
from chs_events.events.enrollment import NewbornEnrolled
from chs_events.identity import (
    derive_newborn_person_id,
    derive_person_id,
    normalize_birth_certificate_no,
    normalize_id_number,
    normalize_mobile,
)
from chs_events.locks import lock_person
from chs_events.unit_of_work import UnitOfWork
from chs_events.vocabulary import EMPLOYEE, RESIDENT


@dataclass(frozen=True)
class PersonView:
    person: Person
    enrollments: list[Enrollment] = field(default_factory=list)


def person_id_of(id_number: str, settings: EnrollmentSettings) -> str:
    return derive_person_id(id_number, settings.person_id_secret.get_secret_value().encode())


async def _locked_person(conn: asyncpg.Connection, person_id: str) -> Person:
    person = await repository.person_for_update(conn, person_id)
    if person is None:
        raise domain.PersonNotFound(f"no person {person_id}")
    return person


async def _enrollments(conn: asyncpg.Connection, person_id: str) -> list[Enrollment]:
    return (await repository.enrollments_of(conn, [person_id])).get(person_id, [])


async def handle_register_person(
    uow: UnitOfWork, command: RegisterPerson, settings: EnrollmentSettings
) -> PersonView:
    id_number = normalize_id_number(command.id_number)
    person, registered = Person.register(
        person_id_of(id_number, settings),
        id_number,
        command.name,
        normalize_mobile(command.mobile),
        command.region_code,
    )
    async with uow:
        conn = uow.conn
        await lock_person(conn, person.person_id)  # beside a death recorded meanwhile
        if await repository.person_for_update(conn, person.person_id):
            raise Conflict("a person with this ID number is already registered")
        events: list[Event] = [person.contact()]
        if (death := await repository.get_death(conn, person.person_id)) is not None:
            # died before registering: recorded deceased, so no enrollment is accepted
            person, _, events = person.die(death.date_of_death, death.record_id, [])
        await repository.insert_person(conn, person)
        await uow.record(registered, *events)
    return PersonView(person)


async def handle_enroll_resident(
    uow: UnitOfWork, command: EnrollResident, settings: EnrollmentSettings
) -> Enrollment:
    async with uow:
        conn = uow.conn
        person = await _locked_person(conn, command.person_id)
        enrollment, registered = person.enroll(
            str(uuid6.uuid7()),
            RESIDENT,
            command.pooling_region,
            command.start_date,
            await _enrollments(conn, person.person_id),
        )
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(registered)
    return enrollment


async def handle_enroll_employee(
    uow: UnitOfWork, command: EnrollEmployee, settings: EnrollmentSettings
) -> Enrollment:
    async with uow:
        conn = uow.conn
        person = await _locked_person(conn, command.person_id)
        employer = await repository.get_employer(conn, command.employer_id)
        pooling_region = domain.employee_pooling_region(command, employer)
        enrollment, registered = person.enroll(
            str(uuid6.uuid7()),
            EMPLOYEE,
            pooling_region,
            command.start_date,
            await _enrollments(conn, person.person_id),
            employer=employer,
            contribution_base_fen=command.contribution_base_fen,
        )
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(registered)
    return enrollment


async def handle_enroll_newborn(
    uow: UnitOfWork, command: EnrollNewborn, settings: EnrollmentSettings
) -> PersonView:
    """出生即参保: a resident (390) enrollment from the birth date; notices go to the guardian."""
    certificate_no = normalize_birth_certificate_no(command.birth_certificate_no)
    person_id = derive_newborn_person_id(
        certificate_no, settings.person_id_secret.get_secret_value().encode()
    )
    async with uow:
        conn = uow.conn
        guardian = await repository.get_person(conn, command.guardian_person_id)
        domain.check_newborn(command.birth_date, guardian, command.guardian_person_id, today())
        if await repository.person_for_update(conn, person_id):
            raise Conflict("a newborn with this birth certificate number is already enrolled")
        person, registered = Person.register_newborn(
            person_id,
            command.name,
            command.sex,
            command.birth_date,
            command.pooling_region,
            certificate_no,
            command.guardian_person_id,
        )
        enrollment, enrolled = person.enroll(
            str(uuid6.uuid7()),
            RESIDENT,
            command.pooling_region,
            command.birth_date,
            [],
            at_birth=True,
        )
        await repository.insert_person(conn, person)
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(
            registered,
            person.contact(),
            enrolled,
            NewbornEnrolled.of(enrollment, person),
        )
    return PersonView(person, [enrollment])


async def handle_record_contribution(
    uow: UnitOfWork, command: RecordContribution, settings: EnrollmentSettings
) -> tuple[Payment, bool]:
    """The payment and whether it is new; the same payment_id again records nothing. Three
    statements: the person locked by the enrollment, what the rules read (read after the lock,
    so a change committed while it was awaited is seen), the payment with its event."""
    async with uow:
        conn = uow.conn
        person = await repository.person_of_enrollment_for_update(conn, command.enrollment_id)
        state = await repository.contribution_state(conn, command.enrollment_id, command.payment_id)
        if state.existing is not None:
            domain.check_replay(state.existing, command)
            return state.existing, False
        enrollment = domain.paid_enrollment(command, state.enrollment)
        assert person is not None  # an enrollment's person is never deleted
        payment, paid = enrollment.pay(
            command, state.paid_periods, birth_date=person.birth_date, today=today()
        )
        if not await repository.insert_payment_recording(uow, payment, paid):
            raise Conflict("changed by a concurrent request; retry")
    return payment, True


@dataclass(frozen=True)
class ContactChangeView:
    """A requested change (``change``) or, when the mobile is the person's already, none."""

    person: Person
    change: ContactChange | None


def contact_code_hash(person_id: str, mobile: str, code: str, settings: EnrollmentSettings) -> str:
    key = settings.person_id_secret.get_secret_value().encode()
    return hmac.new(
        key, f"contact:{person_id}:{mobile}:{code}".encode(), hashlib.sha256
    ).hexdigest()


async def handle_change_contact(
    uow: UnitOfWork, command: ChangeContact, settings: EnrollmentSettings
) -> ContactChangeView:
    """Request a new mobile: nothing changes yet. PersonContact carries the one-time code to
    notification, which sends it to the new mobile; the same mobile again requests nothing."""
    mobile = normalize_mobile(command.mobile)
    code = f"{secrets.randbelow(10**6):06d}"
    at = now()
    async with uow:
        conn = uow.conn
        person = await _locked_person(conn, command.person_id)
        requested = ContactChange.request(
            person, mobile, code, contact_code_hash(person.person_id, mobile, code, settings), at
        )
        if requested is None:
            return ContactChangeView(person, None)
        domain.check_contact_code_requests(
            await repository.contact_codes_requested_since(
                conn, person.person_id, at - timedelta(hours=1)
            ),
            at,
        )
        change, contact = requested
        await repository.save_contact_change(conn, change)
        await repository.record_contact_code_request(conn, person.person_id, at)
        await uow.record(contact)
    return ContactChangeView(person, change)


async def handle_confirm_contact(
    uow: UnitOfWork, command: ConfirmContact, settings: EnrollmentSettings
) -> PersonView:
    """The right code in time makes the requested mobile the person's: ContactChanged and
    PersonContact (notification tells the previous number). A wrong code counts a try (the
    fifth ends the request), an expired one ends it; both refuse after saving that."""
    async with uow:
        conn = uow.conn
        person = await _locked_person(conn, command.person_id)
        change = await repository.get_contact_change(conn, person.person_id)
        if change is None:
            raise domain.NoContactChange(f"no mobile change of person {person.person_id} awaits")
        matches = hmac.compare_digest(
            change.code_hash,
            contact_code_hash(person.person_id, change.mobile, command.code, settings),
        )
        tried, refused, (changed, events) = change.confirm(person, matches, now())
        if isinstance(refused, domain.WrongContactCode):
            await repository.count_contact_attempt(conn, tried)
        else:
            await repository.delete_contact_change(conn, person.person_id)
        if refused is None:
            await repository.update_person(conn, changed)
            await uow.record(*events)
        enrollments = await _enrollments(conn, person.person_id)
    if refused is not None:
        raise refused  # after the commit: the try is counted, an ended request stays ended
    return PersonView(changed, enrollments)


async def handle_move_pooling_region(uow: UnitOfWork, command: MovePoolingRegion) -> bool:
    """A relationship transfer completed: move the enrollment's pooling region and record
    PoolingRegionChanged (caused by the transfer event) in the consumer's unit of work. False
    when this transfer already moved it; ``TransferNotApplicable`` when the enrollment is
    unknown, another person's, not an employee (310) one, or pooled elsewhere than the
    transfer's from_region — a case for people, not for a silent skip."""
    async with uow:
        conn = uow.conn
        person = await _locked_person(conn, command.person_id)
        enrollment = await repository.get_enrollment(conn, command.enrollment_id)
        if enrollment is None or enrollment.person_id != person.person_id:
            raise domain.TransferNotApplicable(
                f"no enrollment {command.enrollment_id} of person {person.person_id}"
            )
        if not await repository.insert_pooling_region_change(conn, command):
            return False
        moved, changed = enrollment.move_pooling_region(
            command.transfer_id, command.from_region, command.to_region, command.changed_on
        )
        await repository.update_enrollment(conn, moved)
        await uow.record(changed)
    return True


async def handle_record_death(
    uow: UnitOfWork, command: RecordDeath
) -> Literal["recorded", "kept", "unchanged"]:
    """A verified death (生存认证) or a corrected date, under the person's lock: the death is
    recorded and, for a registered person, ``Person.die`` ends the enrollments as of the date
    of death (PersonDeceased, EnrollmentTerminated reason death, PersonContact), caused by the
    feed event. A person not registered here has nothing to end: the death is kept, so that a
    later registration is recorded deceased and no enrollment is accepted ("kept"). Nothing
    changes when the date is recorded already ("unchanged"); ``DeathAlreadyRecorded`` for a
    first record of another date than the one recorded."""
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        recorded = await repository.get_death(conn, command.person_id)
        if not domain.death_changes(
            recorded.date_of_death if recorded else None,
            command.date_of_death,
            correction=command.correction,
        ):
            return "unchanged"
        await repository.save_death(conn, command)
        person = await repository.person_for_update(conn, command.person_id)
        if person is None:
            return "kept"
        dead, ended, events = person.die(
            command.date_of_death,
            command.record_id,
            await _enrollments(conn, person.person_id),
        )
        await repository.update_person(conn, dead)
        for enrollment in ended:
            await repository.update_enrollment(conn, enrollment)
        await uow.record(*events)
    return "recorded"
