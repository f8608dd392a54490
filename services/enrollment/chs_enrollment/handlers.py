"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox. Whatever concerns a person locks the person's row first. The staff batches and
employers are in ``staff``."""
from dataclasses import dataclass, field, replace

import asyncpg
import uuid6

from chs_events import outbox
from chs_events.clock import today
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    ContactChanged,
    ContributionPaid,
    EnrollmentRegistered,
    NewbornEnrolled,
    PersonRegistered,
    PoolingRegionChanged,
)
from chs_events.identity import (
    birth_date_from_id_number,
    derive_newborn_person_id,
    derive_person_id,
    normalize_birth_certificate_no,
    normalize_id_number,
    normalize_mobile,
    sex_from_id_number,
)
from chs_events.errors import Conflict
from chs_events.unit_of_work import UnitOfWork

from chs_enrollment import domain, repository
from chs_enrollment.commands import (
    ChangeContact,
    EnrollEmployee,
    EnrollNewborn,
    EnrollResident,
    RecordContribution,
    RegisterPerson,
)
from chs_enrollment.model import EMPLOYEE, RESIDENT, Employer, Enrollment, Payment, Person
from chs_enrollment.settings import EnrollmentSettings

SOURCE = "/chs/enrollment"


@dataclass(frozen=True)
class PersonView:
    person: Person
    enrollments: list[Enrollment] = field(default_factory=list)


def person_id_of(id_number: str, settings: EnrollmentSettings) -> str:
    return derive_person_id(id_number, settings.person_id_secret.get_secret_value().encode())


def person_registered(person: Person) -> PersonRegistered:
    return PersonRegistered(person_id=person.person_id, name=person.name, sex=person.sex,
                            birth_date=person.birth_date, mobile=person.mobile,
                            region_code=person.region_code)


def enrollment_registered(enrollment: Enrollment, employer: Employer | None = None, *,
                          at_birth: bool = False) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=enrollment.person_id, enrollment_id=enrollment.enrollment_id,
        insutype=enrollment.insutype, pooling_region=enrollment.pooling_region,
        start_date=enrollment.start_date, employer_id=enrollment.employer_id,
        employer_name=employer.name if employer else None,
        contribution_base_fen=enrollment.contribution_base_fen, at_birth=at_birth)


async def _locked_person(conn: asyncpg.Connection, person_id: str) -> Person:
    person = await repository.lock_person(conn, person_id)
    if person is None:
        raise domain.PersonNotFound(f"no person {person_id}")
    return person


async def _enrollments(conn: asyncpg.Connection, person_id: str) -> list[Enrollment]:
    return (await repository.enrollments_of(conn, [person_id])).get(person_id, [])


async def handle_register_person(conn: asyncpg.Connection, command: RegisterPerson,
                                 settings: EnrollmentSettings) -> PersonView:
    id_number = normalize_id_number(command.id_number)
    person = Person(person_id_of(id_number, settings), id_number, command.name,
                    sex_from_id_number(id_number), birth_date_from_id_number(id_number),
                    normalize_mobile(command.mobile), command.region_code)
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        if await repository.lock_person(conn, person.person_id):
            raise Conflict("a person with this ID number is already registered",
                           person_id=person.person_id)
        await repository.insert_person(conn, person)
        await uow.record(person_registered(person))
    return PersonView(person)


async def handle_enroll_resident(conn: asyncpg.Connection, command: EnrollResident,
                                 settings: EnrollmentSettings) -> Enrollment:
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        person = await _locked_person(conn, command.person_id)
        domain.check_enrollment_start(person.birth_date, await _enrollments(conn, person.person_id),
                                      RESIDENT, command.start_date)
        enrollment = Enrollment(str(uuid6.uuid7()), person.person_id, RESIDENT,
                                command.pooling_region, command.start_date)
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(enrollment_registered(enrollment))
    return enrollment


async def handle_enroll_employee(conn: asyncpg.Connection, command: EnrollEmployee,
                                 settings: EnrollmentSettings) -> Enrollment:
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        person = await _locked_person(conn, command.person_id)
        employer = await repository.get_employer(conn, command.employer_id)
        pooling_region = domain.employee_pooling_region(command, employer)
        domain.check_enrollment_start(person.birth_date, await _enrollments(conn, person.person_id),
                                      EMPLOYEE, command.start_date)
        enrollment = Enrollment(str(uuid6.uuid7()), person.person_id, EMPLOYEE, pooling_region,
                                command.start_date, command.employer_id,
                                command.contribution_base_fen)
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(enrollment_registered(enrollment, employer))
    return enrollment


async def handle_enroll_newborn(conn: asyncpg.Connection, command: EnrollNewborn,
                                settings: EnrollmentSettings) -> PersonView:
    """出生即参保: a resident (390) enrollment from the birth date; notices go to the guardian."""
    certificate_no = normalize_birth_certificate_no(command.birth_certificate_no)
    person_id = derive_newborn_person_id(certificate_no,
                                         settings.person_id_secret.get_secret_value().encode())
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        guardian = await repository.get_person(conn, command.guardian_person_id)
        domain.check_newborn(command.birth_date, guardian, command.guardian_person_id, today())
        if await repository.lock_person(conn, person_id):
            raise Conflict("a newborn with this birth certificate number is already enrolled",
                           person_id=person_id)
        person = Person(person_id, None, command.name, command.sex, command.birth_date, None,
                        command.pooling_region, certificate_no, command.guardian_person_id)
        enrollment = Enrollment(str(uuid6.uuid7()), person_id, RESIDENT,
                                command.pooling_region, command.birth_date)
        await repository.insert_person(conn, person)
        await repository.insert_enrollment(conn, enrollment)
        await uow.record(person_registered(person),
                         enrollment_registered(enrollment, at_birth=True),
                         NewbornEnrolled(person_id=person_id,
                                         enrollment_id=enrollment.enrollment_id,
                                         guardian_person_id=command.guardian_person_id,
                                         name=command.name, birth_date=command.birth_date,
                                         pooling_region=command.pooling_region,
                                         start_date=enrollment.start_date))
    return PersonView(person, [enrollment])


async def handle_record_contribution(conn: asyncpg.Connection, command: RecordContribution,
                                     settings: EnrollmentSettings) -> tuple[Payment, bool]:
    """The payment and whether it is new; the same payment_id again records nothing."""
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        enrollment = await repository.get_enrollment(conn, command.enrollment_id)
        if enrollment is not None:
            await repository.lock_person(conn, enrollment.person_id)
            enrollment = await repository.get_enrollment(conn, command.enrollment_id)
        existing = await repository.get_payment(conn, command.payment_id)
        if existing is not None:
            domain.check_replay(existing, command)
            return existing, False
        paid = await repository.paid_periods(conn, enrollment.enrollment_id) if enrollment else ()
        domain.check_contribution(command, enrollment, paid)
        payment = Payment(command.payment_id, enrollment.enrollment_id, enrollment.person_id,
                          command.period, command.amount_fen, command.employer_part_fen,
                          command.personal_part_fen, command.paid_at)
        if not await repository.insert_payment(conn, payment):
            raise Conflict("changed by a concurrent request; retry")
        await uow.record(ContributionPaid(
            person_id=payment.person_id, payment_id=payment.payment_id,
            enrollment_id=payment.enrollment_id, insutype=enrollment.insutype,
            period=payment.period, amount_fen=payment.amount_fen,
            employer_part_fen=payment.employer_part_fen,
            personal_part_fen=payment.personal_part_fen, paid_at=payment.paid_at))
    return payment, True


async def handle_change_contact(conn: asyncpg.Connection, command: ChangeContact,
                                settings: EnrollmentSettings) -> PersonView:
    """A new mobile records ContactChanged; the same mobile again changes nothing."""
    mobile = normalize_mobile(command.mobile)
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        person = await _locked_person(conn, command.person_id)
        if person.mobile != mobile:
            await repository.update_mobile(conn, person.person_id, mobile)
            await uow.record(ContactChanged(person_id=person.person_id, mobile=mobile))
            person = replace(person, mobile=mobile)
        return PersonView(person, await _enrollments(conn, person.person_id))


class TransferNotApplicable(Exception):
    """A completed transfer does not fit the enrollment as this service knows it."""


async def handle_transfer_completed(conn: asyncpg.Connection, source: Envelope) -> bool:
    """A relationship transfer completed: move the enrollment's pooling region and record
    PoolingRegionChanged (caused by the transfer event), in the caller's transaction. False when
    this transfer already moved it; TransferNotApplicable when the enrollment is unknown,
    another person's, not an employee (310) one, or pooled elsewhere than the transfer's
    from_region — a case for people, not for a silent skip."""
    event = source.event
    person = await _locked_person(conn, event.person_id)
    enrollment = await repository.get_enrollment(conn, event.enrollment_id)
    if enrollment is None or enrollment.person_id != person.person_id:
        raise TransferNotApplicable(f"no enrollment {event.enrollment_id} of person "
                                    f"{person.person_id}")
    if not await repository.insert_pooling_region_change(
            conn, transfer_id=event.transfer_id, enrollment_id=enrollment.enrollment_id,
            person_id=person.person_id, from_region=event.from_region, to_region=event.to_region,
            changed_on=event.completed_on, event_id=source.id):
        return False
    if enrollment.insutype != EMPLOYEE:
        raise TransferNotApplicable(f"enrollment {enrollment.enrollment_id} is "
                                    f"{enrollment.insutype}, not an employee (310) one")
    if enrollment.pooling_region != event.from_region:
        raise TransferNotApplicable(
            f"enrollment {enrollment.enrollment_id} pools in {enrollment.pooling_region}, "
            f"not in the transfer's from_region {event.from_region}")
    await repository.set_pooling_region(conn, enrollment.enrollment_id, event.to_region)
    await outbox.record(conn, source.caused(PoolingRegionChanged(
        person_id=person.person_id, enrollment_id=enrollment.enrollment_id,
        insutype=enrollment.insutype, from_region=event.from_region, to_region=event.to_region,
        changed_on=event.completed_on, transfer_id=event.transfer_id), source=SOURCE))
    return True
