"""The enrollment service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person locks the person's row first
(``persons_for_update``), so concurrent changes to one person serialize and their outbox rows
are in commit order.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from chs_enrollment.commands import MovePoolingRegion, RecordDeath
from chs_enrollment.model import ContactChange, Employer, Enrollment, Payment, Person
from chs_events.events.base import Event
from chs_events.rows import Table
from chs_events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Death:
    """A verified death as recorded (``deaths``): the date as last recorded or corrected."""

    person_id: str
    date_of_death: date
    record_id: str


PERSONS = Table("persons", Person, key="person_id")
ENROLLMENTS = Table("enrollments", Enrollment, key="enrollment_id")
PAYMENTS = Table("contributions", Payment, key="payment_id")
EMPLOYERS = Table("employers", Employer, key="employer_id")
CONTACT_CHANGES = Table("contact_changes", ContactChange, key="person_id")
DEATHS = Table("deaths", Death, key="person_id")


async def persons_for_update(
    conn: asyncpg.Connection, person_ids: Iterable[str]
) -> dict[str, Person]:
    """Lock the rows of the persons that exist, in person_id order (no deadlocks)."""
    persons = await PERSONS.fetch(
        conn, "person_id = any($1) order by person_id for update", sorted(set(person_ids))
    )
    return {person.person_id: person for person in persons}


async def person_for_update(conn: asyncpg.Connection, person_id: str) -> Person | None:
    """The person, its row locked (``select ... for update``) until the transaction ends."""
    return (await persons_for_update(conn, [person_id])).get(person_id)


async def get_person(conn: asyncpg.Connection, person_id: str) -> Person | None:
    return await PERSONS.get(conn, person_id)


async def insert_person(conn: asyncpg.Connection, person: Person) -> None:
    """Raises asyncpg.UniqueViolationError when the person (or the certificate) is known."""
    await PERSONS.insert(conn, person)


async def update_person(conn: asyncpg.Connection, person: Person) -> None:
    """Save what may change of a registered person: the mobile and the date of death."""
    await PERSONS.update(conn, person, ("mobile", "deceased_on"), also="updated_at = now()")


async def get_death(conn: asyncpg.Connection, person_id: str) -> Death | None:
    return await DEATHS.get(conn, person_id)


async def deaths_of(conn: asyncpg.Connection, person_ids: Iterable[str]) -> dict[str, date]:
    """The recorded dates of death of those of the persons who died."""
    deaths = await DEATHS.fetch(conn, "person_id = any($1)", list(set(person_ids)))
    return {death.person_id: death.date_of_death for death in deaths}


async def save_death(conn: asyncpg.Connection, death: RecordDeath) -> None:
    """The person's date of death as this record states it (a later one corrects it)."""
    await conn.execute(
        """insert into deaths (person_id, date_of_death, record_id, source, region_code, event_id)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (person_id) do update
           set date_of_death = excluded.date_of_death, record_id = excluded.record_id,
               source = excluded.source, region_code = excluded.region_code,
               event_id = excluded.event_id, corrected_at = now()""",
        death.person_id,
        death.date_of_death,
        death.record_id,
        death.source,
        death.region_code,
        death.event_id,
    )


async def get_contact_change(conn: asyncpg.Connection, person_id: str) -> ContactChange | None:
    """The person's requested mobile change (the caller holds the person's lock)."""
    return await CONTACT_CHANGES.get(conn, person_id, for_update=True)


async def save_contact_change(conn: asyncpg.Connection, change: ContactChange) -> None:
    """A new request replaces the one before (a new code, its tries counted afresh)."""
    await conn.execute("delete from contact_changes where person_id = $1", change.person_id)
    await CONTACT_CHANGES.insert(conn, change, on_conflict_do_nothing=False)


async def contact_codes_requested_since(
    conn: asyncpg.Connection, person_id: str, since: datetime
) -> list[datetime]:
    rows = await conn.fetch(
        "select requested_at from contact_code_requests where person_id = $1 and requested_at > $2",
        person_id,
        since,
    )
    return [row["requested_at"] for row in rows]


async def record_contact_code_request(
    conn: asyncpg.Connection, person_id: str, at: datetime
) -> None:
    await conn.execute(
        "insert into contact_code_requests (person_id, requested_at) values ($1, $2)",
        person_id,
        at,
    )


async def count_contact_attempt(conn: asyncpg.Connection, change: ContactChange) -> None:
    await CONTACT_CHANGES.update(conn, change, ("attempts",), also="")


async def delete_contact_change(conn: asyncpg.Connection, person_id: str) -> None:
    await conn.execute("delete from contact_changes where person_id = $1", person_id)


async def insert_employer(
    conn: asyncpg.Connection, name: str, region_code: str, api_key_hash: str
) -> Employer:
    row = await conn.fetchrow(
        """insert into employers (name, region_code, api_key_hash) values ($1, $2, $3)
           returning employer_id, name, region_code""",
        name,
        region_code,
        api_key_hash,
    )
    return Employer(**row)


async def get_employer(conn: asyncpg.Connection, employer_id: str) -> Employer | None:
    return await EMPLOYERS.get(conn, employer_id)


async def employer_names(conn: asyncpg.Connection, employer_ids: Iterable[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "select employer_id, name from employers where employer_id = any($1)",
        list(set(employer_ids)),
    )
    return {row["employer_id"]: row["name"] for row in rows}


async def employer_key_hash(conn: asyncpg.Connection, employer_id: str) -> str | None:
    return await conn.fetchval(
        "select api_key_hash from employers where employer_id = $1", employer_id
    )


async def employer_with_key_hash(conn: asyncpg.Connection, api_key_hash: str) -> str | None:
    return await conn.fetchval(
        "select employer_id from employers where api_key_hash = $1", api_key_hash
    )


async def enrollments_of(
    conn: asyncpg.Connection, person_ids: Iterable[str]
) -> dict[str, list[Enrollment]]:
    enrollments = await ENROLLMENTS.fetch(
        conn,
        "person_id = any($1) order by start_date, enrollment_id",
        list(set(person_ids)),
    )
    found: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments:
        found.setdefault(enrollment.person_id, []).append(enrollment)
    return found


async def get_enrollment(conn: asyncpg.Connection, enrollment_id: str) -> Enrollment | None:
    return await ENROLLMENTS.get(conn, enrollment_id)


async def insert_enrollment(conn: asyncpg.Connection, enrollment: Enrollment) -> None:
    await ENROLLMENTS.insert(conn, enrollment)


async def update_enrollment(conn: asyncpg.Connection, enrollment: Enrollment) -> None:
    """Save what may change of an enrollment: its pooling region and its end."""
    await ENROLLMENTS.update(conn, enrollment, ("pooling_region", "end_date", "end_reason"))


@dataclass(frozen=True)
class ContributionState:
    """What a contribution's rules read: its enrollment, the payment already recorded under
    its payment_id, and the months already paid into the enrollment."""

    enrollment: Enrollment | None
    existing: Payment | None
    paid_periods: frozenset[str]


async def person_of_enrollment_for_update(
    conn: asyncpg.Connection, enrollment_id: str
) -> Person | None:
    """The person of the enrollment (None when there is no such enrollment), its row locked as
    ``person_for_update`` locks it: one statement for the look-up and the lock."""
    return await PERSONS.fetch_one(
        conn,
        "person_id = (select person_id from enrollments where enrollment_id = $1)",
        enrollment_id,
        for_update=True,
    )


_PAYMENT_COLUMNS = ", ".join(f"p.{name} as payment_{name}" for name in PAYMENTS.columns)
_CONTRIBUTION_STATE = f"""
    select {", ".join(f"e.{name}" for name in ENROLLMENTS.columns)}, {_PAYMENT_COLUMNS},
           (select coalesce(array_agg(period), '{{}}') from contributions
            where enrollment_id = $1) as paid_periods
    from (select) as one
    left join enrollments e on e.enrollment_id = $1
    left join contributions p on p.payment_id = $2"""


async def contribution_state(
    conn: asyncpg.Connection, enrollment_id: str, payment_id: str
) -> ContributionState:
    """The enrollment, the payment of ``payment_id`` and the paid months, in one statement (read
    under the person's lock: ``person_of_enrollment_for_update`` first)."""
    row = await conn.fetchrow(_CONTRIBUTION_STATE, enrollment_id, payment_id)
    assert row is not None  # one row, whatever exists
    existing = (
        PAYMENTS.load({name: row[f"payment_{name}"] for name in PAYMENTS.columns})
        if row["payment_payment_id"] is not None
        else None
    )
    return ContributionState(
        ENROLLMENTS.load(row) if row["enrollment_id"] is not None else None,
        existing,
        frozenset(row["paid_periods"]),
    )


async def insert_payment_recording(uow: UnitOfWork, payment: Payment, *events: Event) -> bool:
    """The payment and its events in one statement; False when the payment_id is already
    recorded (nothing is written, no event recorded)."""
    insert = PAYMENTS.insert_sql(on_conflict_do_nothing="(payment_id)")
    return await uow.record_with([(insert, PAYMENTS.dump(payment))], *events)


async def payments_of(conn: asyncpg.Connection, person_id: str) -> list[Payment]:
    return await PAYMENTS.fetch(conn, "person_id = $1 order by period, paid_at", person_id)


async def insert_pooling_region_change(conn: asyncpg.Connection, move: MovePoolingRegion) -> bool:
    """The transfer's move of the enrollment; False when this transfer already moved it
    (nothing is written)."""
    inserted = await conn.fetchval(
        """insert into pooling_region_changes (transfer_id, enrollment_id, person_id, from_region,
                                               to_region, changed_on, event_id)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict (transfer_id) do nothing
           returning transfer_id""",
        move.transfer_id,
        move.enrollment_id,
        move.person_id,
        move.from_region,
        move.to_region,
        move.changed_on,
        move.event_id,
    )
    return inserted is not None
