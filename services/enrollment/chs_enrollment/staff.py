"""Employers and their staff batches (增减员): each batch is one transaction, all or nothing.

Every item is checked before anything changes; the persons are locked, and changed, in
person_id order, so concurrent batches cannot deadlock.
"""
from dataclasses import dataclass

import asyncpg
import uuid6

from chs_events.events.base import Event
from chs_events.events.enrollment import EnrollmentTerminated, StaffAdded, StaffRemoved
from chs_events.identity import (
    birth_date_from_id_number,
    normalize_id_number,
    normalize_mobile,
    sex_from_id_number,
)
from chs_events.errors import NotFound
from chs_events.unit_of_work import UnitOfWork

from chs_enrollment import domain, repository
from chs_enrollment.commands import AddStaff, RegisterEmployer, RemoveStaff
from chs_enrollment.handlers import (
    SOURCE,
    enrollment_registered,
    person_id_of,
    person_registered,
)
from chs_enrollment.model import EMPLOYEE, Employer, Enrollment, Person
from chs_enrollment.settings import EnrollmentSettings


@dataclass(frozen=True)
class StaffChange:
    index: int
    person_id: str
    enrollment_id: str
    registered: bool = False  # the person was new to the registry


async def handle_register_employer(conn: asyncpg.Connection, command: RegisterEmployer,
                                   settings: EnrollmentSettings) -> Employer:
    # No event: the catalog has no employer event type, and nobody else needs employers.
    return await repository.insert_employer(conn, command.name, command.region_code,
                                            command.api_key_hash)


async def handle_add_staff(conn: asyncpg.Connection, command: AddStaff,
                           settings: EnrollmentSettings) -> list[StaffChange]:
    """增员: every item is checked first; one refused item refuses the batch."""
    employer = await repository.get_employer(conn, command.employer_id)
    if employer is None:
        raise NotFound(f"no employer {command.employer_id}")
    ids = [person_id_of(item.id_number, settings) for item in command.items]
    changes = []
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        persons = await repository.lock_persons(conn, ids)
        enrollments = await repository.enrollments_of(conn, ids)
        domain.check_batch(
            list(zip(ids, command.items)),
            lambda pair: domain.check_new_staff(pair[1], persons.get(pair[0]),
                                                enrollments.get(pair[0], [])),
            key=lambda pair: pair[0], key_field="id_number")
        for index, person_id, item in sorted(zip(range(len(ids)), ids, command.items),
                                             key=lambda entry: entry[1]):
            events: list[Event] = []
            if person_id not in persons:
                id_number = normalize_id_number(item.id_number)
                person = Person(person_id, id_number, item.name, sex_from_id_number(id_number),
                                birth_date_from_id_number(id_number),
                                normalize_mobile(item.mobile), item.region_code)
                await repository.insert_person(conn, person)
                events.append(person_registered(person))
            enrollment = Enrollment(str(uuid6.uuid7()), person_id, EMPLOYEE, employer.region_code,
                                    item.start_date, employer.employer_id,
                                    item.contribution_base_fen)
            await repository.insert_enrollment(conn, enrollment)
            events += [StaffAdded(person_id=person_id, employer_id=employer.employer_id,
                                  enrollment_id=enrollment.enrollment_id,
                                  contribution_base_fen=item.contribution_base_fen,
                                  start_date=item.start_date),
                       enrollment_registered(enrollment, employer)]
            await uow.record(*events)
            changes.append(StaffChange(index, person_id, enrollment.enrollment_id,
                                       registered=person_id not in persons))
    return sorted(changes, key=lambda change: change.index)


async def handle_remove_staff(conn: asyncpg.Connection, command: RemoveStaff,
                              settings: EnrollmentSettings) -> list[StaffChange]:
    """减员: only this employer's active staff; one refused item refuses the batch."""
    ids = [leaver.person_id for leaver in command.items]
    changes = []
    async with UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id) as uow:
        await repository.lock_persons(conn, ids)
        enrollments = await repository.enrollments_of(conn, ids)
        ended = domain.check_batch(
            command.items,
            lambda leaver: domain.staff_enrollment(
                command.employer_id, enrollments.get(leaver.person_id, []), leaver.end_date),
            key=lambda leaver: leaver.person_id, key_field="person_id")
        for index, leaver, enrollment in sorted(zip(range(len(ids)), command.items, ended),
                                                key=lambda entry: entry[1].person_id):
            await repository.end_enrollment(conn, enrollment.enrollment_id, leaver.end_date,
                                            domain.LEFT_EMPLOYER)
            await uow.record(
                StaffRemoved(person_id=leaver.person_id, employer_id=command.employer_id,
                             enrollment_id=enrollment.enrollment_id, end_date=leaver.end_date),
                EnrollmentTerminated(person_id=leaver.person_id,
                                     enrollment_id=enrollment.enrollment_id, insutype=EMPLOYEE,
                                     end_date=leaver.end_date, reason=domain.LEFT_EMPLOYER,
                                     employer_id=command.employer_id))
            changes.append(StaffChange(index, leaver.person_id, enrollment.enrollment_id))
    return sorted(changes, key=lambda change: change.index)
