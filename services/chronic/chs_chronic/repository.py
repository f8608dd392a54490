"""The chronic-disease service's queries (asyncpg), mapping rows to ``model`` state.

Whatever changes something about a person takes the person's advisory lock first
(``chs_events.locks``): this service keeps no person rows, and the lock serializes one person's
changes across every instance, so their outbox rows are in commit order.
"""

import json
from collections.abc import Collection
from datetime import date, datetime

import asyncpg

from chs_chronic import domain
from chs_chronic.commands import Evidence
from chs_chronic.model import Application, Certification
from chs_events import regions
from chs_events.lookups import Lookup
from chs_events.rows import ARRAY, Convert, Table


def _evidence_json(evidence: tuple[Evidence, ...]) -> str:
    return json.dumps(
        [{"kind": e.kind, "reference": e.reference} for e in evidence], ensure_ascii=False
    )


def _evidence(stored: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(**item) for item in json.loads(stored))


APPLICATIONS = Table(
    "applications",
    Application,
    key="application_id",
    convert={"diagnosis_codes": ARRAY, "evidence": Convert(_evidence_json, _evidence)},
)
CERTIFICATIONS = Table(
    "certifications", Certification, key="certification_id", convert={"diagnosis_codes": ARRAY}
)


# The plain reads and inserts are the tables' own: get(conn, id, *, for_update=False).
insert_application = APPLICATIONS.insert
get_application = APPLICATIONS.get
get_certification = CERTIFICATIONS.get
# By id, for a route (or 404) and a handler (under the person's lock).
applications = Lookup("application", get_application, domain.ApplicationNotFound)
certifications = Lookup("certification", get_certification, domain.CertificationNotFound)


async def save_application(conn: asyncpg.Connection, application: Application) -> None:
    """The application's decision as the aggregate holds it."""
    await APPLICATIONS.update(
        conn,
        application,
        (
            "status",
            "condition_code",
            "rule",
            "reason",
            "decided_at",
            "decided_by",
            "certification_id",
        ),
    )


def _codes_within(area: str) -> str:
    """A ``like`` pattern of the region codes ``area`` covers (``chs_events.regions.covers``):
    a province's every part, a city's districts and counties, a county itself."""
    level = regions.region(area).level
    return {"province": area[:2] + "%", "city": area[:4] + "%"}.get(level, area)


async def review_queue(conn: asyncpg.Connection, limit: int, area: str) -> list[Application]:
    """The applications of ``area`` waiting for review, oldest first."""
    return await APPLICATIONS.fetch(
        conn,
        """status = 'pending_review' and region like $2
           order by submitted_at, application_id limit $1""",
        limit,
        _codes_within(area),
    )


async def applications_of(conn: asyncpg.Connection, person_id: str) -> list[Application]:
    return await APPLICATIONS.fetch(
        conn, "person_id = $1 order by submitted_at, application_id", person_id
    )


async def active_condition_codes(conn: asyncpg.Connection, person_id: str) -> set[str]:
    rows = await conn.fetch(
        "select condition_code from certifications where person_id = $1 and status = 'active'",
        person_id,
    )
    return {row["condition_code"] for row in rows}


async def insert_certification(conn: asyncpg.Connection, certification: Certification) -> bool:
    """False when the person already has an active certification of the condition."""
    return await CERTIFICATIONS.insert(
        conn,
        certification,
        on_conflict_do_nothing="(person_id, condition_code) where status = 'active'",
    )


async def active_certification(
    conn: asyncpg.Connection, person_id: str, condition_code: str
) -> Certification | None:
    return await CERTIFICATIONS.fetch_one(
        conn,
        "person_id = $1 and condition_code = $2 and status = 'active'",
        person_id,
        condition_code,
    )


async def certifications_of(conn: asyncpg.Connection, person_id: str) -> list[Certification]:
    return await CERTIFICATIONS.fetch(
        conn, "person_id = $1 order by certified_at, certification_id", person_id
    )


async def save_certification(conn: asyncpg.Connection, certification: Certification) -> None:
    """The certification's end as the aggregate holds it."""
    await CERTIFICATIONS.update(conn, certification, ("status", "ended_on", "end_reason"))


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
    return await CERTIFICATIONS.fetch_one(
        conn,
        "certification_id = $1 and status = 'active' and valid_until < $2 for update skip locked",
        certification_id,
        today,
    )


# --- the settlements certifications rest on, and the reversed ones (冲正) ----------------------


async def rest_on(conn: asyncpg.Connection, certification_id: str, settlement_id: str) -> None:
    """The settlement named the certification's condition while it was active."""
    await conn.execute(
        """insert into certification_settlements (certification_id, settlement_id)
           values ($1, $2) on conflict do nothing""",
        certification_id,
        settlement_id,
    )


async def resting_on(conn: asyncpg.Connection, settlement_id: str) -> list[Certification]:
    """The active certifications the settlement named, locked."""
    return await CERTIFICATIONS.fetch(
        conn,
        """status = 'active' and certification_id in (
               select certification_id from certification_settlements where settlement_id = $1)
           order by certification_id for update""",
        settlement_id,
    )


async def settlements_of(conn: asyncpg.Connection, certification_id: str) -> set[str]:
    rows = await conn.fetch(
        "select settlement_id from certification_settlements where certification_id = $1",
        certification_id,
    )
    return {row["settlement_id"] for row in rows}


async def insert_reversed_settlement(
    conn: asyncpg.Connection, settlement_id: str, person_id: str, reversed_at: datetime
) -> None:
    await conn.execute(
        """insert into reversed_settlements (settlement_id, person_id, reversed_at)
           values ($1, $2, $3) on conflict (settlement_id) do nothing""",
        settlement_id,
        person_id,
        reversed_at,
    )


async def reversed_among(conn: asyncpg.Connection, settlement_ids: Collection[str]) -> set[str]:
    rows = await conn.fetch(
        "select settlement_id from reversed_settlements where settlement_id = any($1::text[])",
        list(settlement_ids),
    )
    return {row["settlement_id"] for row in rows}
