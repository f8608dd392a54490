"""The enrollment service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person locks the person's row first
(``persons_for_update``), so concurrent changes to one person serialize and their outbox rows
are in commit order.
"""

from collections.abc import Iterable
from datetime import date

import asyncpg

from chs_enrollment.model import Employer, Enrollment, Payment, Person

_PERSON = """person_id, id_number, name, sex, birth_date, mobile, region_code,
              birth_certificate_no, guardian_person_id"""
_ENROLLMENT = """enrollment_id, person_id, insutype, pooling_region, start_date, employer_id,
                  contribution_base_fen, end_date, end_reason"""
_PAYMENT = """payment_id, enrollment_id, person_id, period, amount_fen, employer_part_fen,
               personal_part_fen, paid_at"""


async def persons_for_update(
    conn: asyncpg.Connection, person_ids: Iterable[str]
) -> dict[str, Person]:
    """Lock the rows of the persons that exist, in person_id order (no deadlocks)."""
    rows = await conn.fetch(
        f"select {_PERSON} from persons where person_id = any($1) order by person_id for update",
        sorted(set(person_ids)),
    )
    return {row["person_id"]: Person(**row) for row in rows}


async def person_for_update(conn: asyncpg.Connection, person_id: str) -> Person | None:
    """The person, its row locked (``select ... for update``) until the transaction ends."""
    return (await persons_for_update(conn, [person_id])).get(person_id)


async def get_person(conn: asyncpg.Connection, person_id: str) -> Person | None:
    row = await conn.fetchrow(f"select {_PERSON} from persons where person_id = $1", person_id)
    return Person(**row) if row else None


async def insert_person(conn: asyncpg.Connection, person: Person) -> None:
    """Raises asyncpg.UniqueViolationError when the person (or the certificate) is known."""
    await conn.execute(
        f"insert into persons ({_PERSON}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        person.person_id,
        person.id_number,
        person.name,
        person.sex,
        person.birth_date,
        person.mobile,
        person.region_code,
        person.birth_certificate_no,
        person.guardian_person_id,
    )


async def update_person(conn: asyncpg.Connection, person: Person) -> None:
    """Save what may change of a registered person: the mobile."""
    await conn.execute(
        "update persons set mobile = $2, updated_at = now() where person_id = $1",
        person.person_id,
        person.mobile,
    )


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
    row = await conn.fetchrow(
        "select employer_id, name, region_code from employers where employer_id = $1", employer_id
    )
    return Employer(**row) if row else None


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
    rows = await conn.fetch(
        f"""select {_ENROLLMENT} from enrollments where person_id = any($1)
            order by start_date, enrollment_id""",
        list(set(person_ids)),
    )
    found: dict[str, list[Enrollment]] = {}
    for row in rows:
        found.setdefault(row["person_id"], []).append(Enrollment(**row))
    return found


async def get_enrollment(conn: asyncpg.Connection, enrollment_id: str) -> Enrollment | None:
    row = await conn.fetchrow(
        f"select {_ENROLLMENT} from enrollments where enrollment_id = $1", enrollment_id
    )
    return Enrollment(**row) if row else None


async def insert_enrollment(conn: asyncpg.Connection, enrollment: Enrollment) -> None:
    await conn.execute(
        f"insert into enrollments ({_ENROLLMENT}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        enrollment.enrollment_id,
        enrollment.person_id,
        enrollment.insutype,
        enrollment.pooling_region,
        enrollment.start_date,
        enrollment.employer_id,
        enrollment.contribution_base_fen,
        enrollment.end_date,
        enrollment.end_reason,
    )


async def update_enrollment(conn: asyncpg.Connection, enrollment: Enrollment) -> None:
    """Save what may change of an enrollment: its pooling region and its end."""
    await conn.execute(
        """update enrollments set pooling_region = $2, end_date = $3, end_reason = $4
           where enrollment_id = $1""",
        enrollment.enrollment_id,
        enrollment.pooling_region,
        enrollment.end_date,
        enrollment.end_reason,
    )


async def get_payment(conn: asyncpg.Connection, payment_id: str) -> Payment | None:
    row = await conn.fetchrow(
        f"select {_PAYMENT} from contributions where payment_id = $1", payment_id
    )
    return Payment(**row) if row else None


async def paid_periods(conn: asyncpg.Connection, enrollment_id: str) -> set[str]:
    rows = await conn.fetch(
        "select period from contributions where enrollment_id = $1", enrollment_id
    )
    return {row["period"] for row in rows}


async def insert_payment(conn: asyncpg.Connection, payment: Payment) -> bool:
    """False when the payment_id is already recorded (nothing is written)."""
    inserted = await conn.fetchval(
        f"""insert into contributions ({_PAYMENT}) values ($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict (payment_id) do nothing returning payment_id""",
        payment.payment_id,
        payment.enrollment_id,
        payment.person_id,
        payment.period,
        payment.amount_fen,
        payment.employer_part_fen,
        payment.personal_part_fen,
        payment.paid_at,
    )
    return inserted is not None


async def payments_of(conn: asyncpg.Connection, person_id: str) -> list[Payment]:
    rows = await conn.fetch(
        f"select {_PAYMENT} from contributions where person_id = $1 order by period, paid_at",
        person_id,
    )
    return [Payment(**row) for row in rows]


async def insert_pooling_region_change(
    conn: asyncpg.Connection,
    *,
    transfer_id: str,
    enrollment_id: str,
    person_id: str,
    from_region: str,
    to_region: str,
    changed_on: date,
    event_id: str,
) -> bool:
    """False when this transfer already moved the enrollment (nothing is written)."""
    inserted = await conn.fetchval(
        """insert into pooling_region_changes (transfer_id, enrollment_id, person_id, from_region,
                                               to_region, changed_on, event_id)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict (transfer_id) do nothing
           returning transfer_id""",
        transfer_id,
        enrollment_id,
        person_id,
        from_region,
        to_region,
        changed_on,
        event_id,
    )
    return inserted is not None
