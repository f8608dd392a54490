"""The chronic-disease service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person takes the person's advisory lock first
(``chs_events.locks``): this service keeps no person rows, and the lock serializes one person's
changes across every instance, so their outbox rows are in commit order.
"""

import json
from datetime import date

import asyncpg

from chs_chronic.commands import Evidence
from chs_chronic.model import Application, Certification

_APPLICATION = """application_id, person_id, institution_code, institution_name, doctor_id,
    doctor_name, discharge_date, diagnosis_codes, evidence, requested_condition, condition_code,
    status, rule, reason, submitted_at, decided_at, decided_by, certification_id"""
_CERTIFICATION = """certification_id, person_id, condition_code, condition_name, source,
    application_id, settlement_id, diagnosis_codes, institution_code, institution_name,
    valid_from, valid_until, annual_cap_fen, pay_ratio_permille, status, certified_at, ended_on,
    end_reason"""


def _application(row: asyncpg.Record) -> Application:
    values = dict(row)
    values["diagnosis_codes"] = tuple(values["diagnosis_codes"])
    values["evidence"] = tuple(Evidence(**item) for item in json.loads(values["evidence"]))
    return Application(**values)


def _certification(row: asyncpg.Record) -> Certification:
    return Certification(**{**dict(row), "diagnosis_codes": tuple(row["diagnosis_codes"])})


async def insert_application(conn: asyncpg.Connection, application: Application) -> None:
    a = application
    await conn.execute(
        f"""insert into applications ({_APPLICATION}) values
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)""",
        a.application_id,
        a.person_id,
        a.institution_code,
        a.institution_name,
        a.doctor_id,
        a.doctor_name,
        a.discharge_date,
        list(a.diagnosis_codes),
        json.dumps(
            [{"kind": e.kind, "reference": e.reference} for e in a.evidence], ensure_ascii=False
        ),
        a.requested_condition,
        a.condition_code,
        a.status,
        a.rule,
        a.reason,
        a.submitted_at,
        a.decided_at,
        a.decided_by,
        a.certification_id,
    )


async def get_application(
    conn: asyncpg.Connection, application_id: str, *, for_update: bool = False
) -> Application | None:
    row = await conn.fetchrow(
        f"select {_APPLICATION} from applications where application_id = $1"
        + (" for update" if for_update else ""),
        application_id,
    )
    return _application(row) if row else None


async def save_application(conn: asyncpg.Connection, application: Application) -> None:
    """The application's decision as the aggregate holds it."""
    a = application
    await conn.execute(
        """update applications set status = $2, condition_code = $3, rule = $4, reason = $5,
               decided_at = $6, decided_by = $7, certification_id = $8
           where application_id = $1""",
        a.application_id,
        a.status,
        a.condition_code,
        a.rule,
        a.reason,
        a.decided_at,
        a.decided_by,
        a.certification_id,
    )


async def review_queue(conn: asyncpg.Connection, limit: int) -> list[Application]:
    rows = await conn.fetch(
        f"""select {_APPLICATION} from applications where status = 'pending_review'
            order by submitted_at, application_id limit $1""",
        limit,
    )
    return [_application(row) for row in rows]


async def applications_of(conn: asyncpg.Connection, person_id: str) -> list[Application]:
    rows = await conn.fetch(
        f"""select {_APPLICATION} from applications where person_id = $1
            order by submitted_at, application_id""",
        person_id,
    )
    return [_application(row) for row in rows]


async def active_condition_codes(conn: asyncpg.Connection, person_id: str) -> set[str]:
    rows = await conn.fetch(
        "select condition_code from certifications where person_id = $1 and status = 'active'",
        person_id,
    )
    return {row["condition_code"] for row in rows}


async def insert_certification(conn: asyncpg.Connection, certification: Certification) -> bool:
    """False when the person already has an active certification of the condition."""
    c = certification
    inserted = await conn.fetchval(
        f"""insert into certifications ({_CERTIFICATION}) values
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            on conflict (person_id, condition_code) where status = 'active' do nothing
            returning true""",
        c.certification_id,
        c.person_id,
        c.condition_code,
        c.condition_name,
        c.source,
        c.application_id,
        c.settlement_id,
        list(c.diagnosis_codes),
        c.institution_code,
        c.institution_name,
        c.valid_from,
        c.valid_until,
        c.annual_cap_fen,
        c.pay_ratio_permille,
        c.status,
        c.certified_at,
        c.ended_on,
        c.end_reason,
    )
    return bool(inserted)


async def get_certification(
    conn: asyncpg.Connection, certification_id: str, *, for_update: bool = False
) -> Certification | None:
    row = await conn.fetchrow(
        f"select {_CERTIFICATION} from certifications where certification_id = $1"
        + (" for update" if for_update else ""),
        certification_id,
    )
    return _certification(row) if row else None


async def certifications_of(conn: asyncpg.Connection, person_id: str) -> list[Certification]:
    rows = await conn.fetch(
        f"""select {_CERTIFICATION} from certifications where person_id = $1
            order by certified_at, certification_id""",
        person_id,
    )
    return [_certification(row) for row in rows]


async def save_certification(conn: asyncpg.Connection, certification: Certification) -> None:
    """The certification's end as the aggregate holds it."""
    c = certification
    await conn.execute(
        """update certifications set status = $2, ended_on = $3, end_reason = $4
           where certification_id = $1""",
        c.certification_id,
        c.status,
        c.ended_on,
        c.end_reason,
    )


async def due_for_expiry(
    conn: asyncpg.Connection, today: date, limit: int
) -> list[tuple[str, str]]:
    """(certification_id, person_id) of active certifications whose last valid day passed."""
    rows = await conn.fetch(
        """select certification_id, person_id from certifications
           where status = 'active' and valid_until < $1 order by valid_until limit $2""",
        today,
        limit,
    )
    return [(row["certification_id"], row["person_id"]) for row in rows]


async def lock_if_due(
    conn: asyncpg.Connection, certification_id: str, today: date
) -> Certification | None:
    """The certification, locked, if still active and due; None when another instance has it
    (``skip locked``) or already ended it."""
    row = await conn.fetchrow(
        f"""select {_CERTIFICATION} from certifications
            where certification_id = $1 and status = 'active' and valid_until < $2
            for update skip locked""",
        certification_id,
        today,
    )
    return _certification(row) if row else None
