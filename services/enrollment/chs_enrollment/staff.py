"""Employers and their staff batches (增减员): each batch is one transaction, all or nothing.

Every item is checked before anything changes; the persons are locked, and changed, in
person_id order, so concurrent batches cannot deadlock.
"""

from dataclasses import dataclass

import uuid6

from chs_enrollment import domain, repository
from chs_enrollment.commands import AddStaff, RegisterEmployer, RemoveStaff
from chs_enrollment.handlers import person_id_of
from chs_enrollment.model import Employer, Person
from chs_enrollment.settings import EnrollmentSettings
from chs_events.errors import NotFound
from chs_events.events.base import Event
from chs_events.identity import normalize_id_number, normalize_mobile
from chs_events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StaffChange:
    index: int
    person_id: str
    enrollment_id: str
    registered: bool = False  # the person was new to the registry


async def handle_register_employer(
    uow: UnitOfWork, command: RegisterEmployer, settings: EnrollmentSettings
) -> Employer:
    # No event: the catalog has no employer event type, and nobody else needs employers.
    async with uow:
        return await repository.insert_employer(
            uow.conn, command.name, command.region_code, command.api_key_hash
        )


async def _employer(uow: UnitOfWork, employer_id: str) -> Employer:
    employer = await repository.get_employer(uow.conn, employer_id)
    if employer is None:
        raise NotFound(f"no employer {employer_id}")
    return employer


async def handle_add_staff(
    uow: UnitOfWork, command: AddStaff, settings: EnrollmentSettings
) -> list[StaffChange]:
    """增员: every item is checked first; one refused item refuses the batch."""
    ids = [person_id_of(item.id_number, settings) for item in command.items]
    changes = []
    async with uow:
        conn = uow.conn
        employer = await _employer(uow, command.employer_id)
        persons = await repository.persons_for_update(conn, ids)
        enrollments = await repository.enrollments_of(conn, ids)
        deaths = await repository.deaths_of(conn, ids)
        domain.check_batch(
            list(zip(ids, command.items, strict=True)),
            lambda pair: domain.check_new_staff(
                pair[1], persons.get(pair[0]), enrollments.get(pair[0], []), deaths.get(pair[0])
            ),
            key=lambda pair: pair[0],
            key_field="id_number",
        )
        for index, person_id, item in sorted(
            zip(range(len(ids)), ids, command.items, strict=True), key=lambda entry: entry[1]
        ):
            events: list[Event] = []
            person = persons.get(person_id)
            if person is None:
                person, registered = Person.register(
                    person_id,
                    normalize_id_number(item.id_number),
                    item.name,
                    normalize_mobile(item.mobile),
                    item.region_code,
                )
                await repository.insert_person(conn, person)
                events.extend((registered, person.contact()))
            enrollment, added = employer.add_staff(
                person,
                str(uuid6.uuid7()),
                item.contribution_base_fen,
                item.start_date,
                enrollments.get(person_id, []),
            )
            await repository.insert_enrollment(conn, enrollment)
            await uow.record(*events, *added)
            changes.append(
                StaffChange(
                    index, person_id, enrollment.enrollment_id, registered=person_id not in persons
                )
            )
    return sorted(changes, key=lambda change: change.index)


async def handle_remove_staff(
    uow: UnitOfWork, command: RemoveStaff, settings: EnrollmentSettings
) -> list[StaffChange]:
    """减员: only this employer's active staff; one refused item refuses the batch."""
    ids = [leaver.person_id for leaver in command.items]
    changes = []
    async with uow:
        conn = uow.conn
        employer = await _employer(uow, command.employer_id)
        await repository.persons_for_update(conn, ids)
        enrollments = await repository.enrollments_of(conn, ids)
        removals = domain.check_batch(
            command.items,
            lambda leaver: employer.remove_staff(
                enrollments.get(leaver.person_id, []), leaver.end_date
            ),
            key=lambda leaver: leaver.person_id,
            key_field="person_id",
        )
        for index, leaver, (ended, removed) in sorted(
            zip(range(len(ids)), command.items, removals, strict=True),
            key=lambda entry: entry[1].person_id,
        ):
            await repository.update_enrollment(conn, ended)
            await uow.record(*removed)
            changes.append(StaffChange(index, leaver.person_id, ended.enrollment_id))
    return sorted(changes, key=lambda change: change.index)
