"""The enrollment read model: person → enrollments, kept from ``chs.enrollment.events``.

``EnrollmentRegistered`` inserts the enrollment (a replay changes nothing: the first
registration stands, so a redelivered one cannot undo a later end or move);
``EnrollmentTerminated`` sets its end date and ``PoolingRegionChanged`` (a completed transfer)
its pooling region. An end or move of an enrollment never seen is logged and skipped. Every
write is keyed by enrollment id, so it is idempotent on its own as well as under the consumer's
inbox claim; one person's events arrive in order on one partition. A registration releases the
events the service parked awaiting the person's enrollment (``chs_events.parking``): they are
applied once it commits.

Use: opt into the table (``READ_MODELS = ("enrollments",)`` in the service's migrations package)
and subscribe ``Subscription("<service>-enrollments", TOPICS, SUBSCRIPTION_HANDLERS)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import asyncpg

from chs_events import parking
from chs_events.consumer import Handler
from chs_events.envelope import Envelope
from chs_events.events.enrollment import (
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.topics import ENROLLMENT_EVENTS
from chs_events.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from chs_events.auth import Caller

log = logging.getLogger(__name__)

NAME = "enrollments"
TOPICS = [ENROLLMENT_EVENTS]
_COLUMNS = "enrollment_id, person_id, insutype, pooling_region, start_date, end_date"


@dataclass(frozen=True)
class Enrollment:
    """One enrollment as the read model knows it."""

    enrollment_id: str
    person_id: str
    insutype: str
    pooling_region: str
    start_date: date
    end_date: date | None = None

    def active_on(self, day: date) -> bool:
        """From the start date to the end date, both inclusive (open-ended while not ended)."""
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


def home_enrollment(enrollments: Iterable[Enrollment], day: date) -> Enrollment | None:
    """The enrollment a person is insured under on ``day``: employee (310) before resident
    (390), then the earliest started."""
    active = [e for e in enrollments if e.active_on(day)]
    active.sort(key=lambda e: (e.insutype != "310", e.start_date, e.enrollment_id))
    return active[0] if active else None


# --- writes --------------------------------------------------------------------------------------


async def insert_enrollment(conn: asyncpg.Connection, enrollment: Enrollment) -> bool:
    """False when the enrollment is already known (it is left as it is)."""
    inserted = await conn.fetchval(
        f"""insert into enrollment_view ({_COLUMNS}) values ($1, $2, $3, $4, $5, $6)
            on conflict (enrollment_id) do nothing returning true""",
        enrollment.enrollment_id,
        enrollment.person_id,
        enrollment.insutype,
        enrollment.pooling_region,
        enrollment.start_date,
        enrollment.end_date,
    )
    return bool(inserted)


async def end_enrollment(conn: asyncpg.Connection, enrollment_id: str, end_date: date) -> bool:
    """False when the enrollment is unknown."""
    status = await conn.execute(
        "update enrollment_view set end_date = $2, updated_at = now() where enrollment_id = $1",
        enrollment_id,
        end_date,
    )
    return status != "UPDATE 0"


async def move_enrollment(conn: asyncpg.Connection, enrollment_id: str, region: str) -> bool:
    """Set the current pooling region; False when the enrollment is unknown."""
    status = await conn.execute(
        "update enrollment_view set pooling_region = $2, updated_at = now() "
        "where enrollment_id = $1",
        enrollment_id,
        region,
    )
    return status != "UPDATE 0"


# --- queries -------------------------------------------------------------------------------------


async def enrollments_of(
    conn: asyncpg.Connection, person_id: str, *, for_update: bool = False
) -> list[Enrollment]:
    """The person's enrollments by start date; ``for_update`` locks their rows (so commands
    about one person serialize) until the caller's transaction ends."""
    rows = await conn.fetch(
        f"select {_COLUMNS} from enrollment_view where person_id = $1 "
        "order by start_date, enrollment_id" + (" for update" if for_update else ""),
        person_id,
    )
    return [Enrollment(**row) for row in rows]


async def regions_of(conn: asyncpg.Connection, person_id: str) -> set[str]:
    """The pooling regions the person is or was enrolled in: an agency of one of them serves
    the person (``chs_events.policy``)."""
    rows = await conn.fetch(
        "select distinct pooling_region from enrollment_view where person_id = $1", person_id
    )
    return {row["pooling_region"] for row in rows}


async def authorize_for_person(
    conn: asyncpg.Connection,
    caller: Caller,
    action: str,
    person_id: str,
    *,
    institution_code: str | None = None,
) -> None:
    """``policy.authorize`` for the person's business: the person themself, an agency of one of
    the person's pooling regions (read only for an agency), or the institution named."""
    # Imported here: the policy is the APIs' (FastAPI, PyJWT), and a worker that keeps the read
    # model never loads them.
    from chs_events.policy import Kind, Target, authorize

    regions = await regions_of(conn, person_id) if caller.kind == Kind.AGENCY else set()
    authorize(
        caller,
        action,
        Target(person_id=person_id, institution_code=institution_code, regions=regions),
    )


async def active_enrollment(
    conn: asyncpg.Connection, person_id: str, insutype: str, on: date
) -> Enrollment | None:
    """The person's enrollment of ``insutype`` active on ``on`` (the earliest-started one)."""
    row = await conn.fetchrow(
        f"""select {_COLUMNS} from enrollment_view
            where person_id = $1 and insutype = $2 and start_date <= $3
              and (end_date is null or end_date >= $3)
            order by start_date, enrollment_id limit 1""",
        person_id,
        insutype,
        on,
    )
    return Enrollment(**row) if row else None


# --- the consumer's handlers ---------------------------------------------------------------------


@parking.releases
async def on_enrollment_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    """Also releases what the service's consumers parked awaiting the person's enrollment
    (``Awaiting("enrollment", person_id)``, ``chs_events.parking``)."""
    conn = uow.conn
    event = envelope.event
    assert isinstance(event, EnrollmentRegistered)
    await parking.release(conn, "enrollment", event.person_id)
    await insert_enrollment(
        conn,
        Enrollment(
            event.enrollment_id,
            event.person_id,
            event.insutype,
            event.pooling_region,
            event.start_date,
        ),
    )


async def on_enrollment_terminated(uow: UnitOfWork, envelope: Envelope) -> None:
    conn = uow.conn
    event = envelope.event
    assert isinstance(event, EnrollmentTerminated)
    if not await end_enrollment(conn, event.enrollment_id, event.end_date):
        log.warning(
            "termination of an unknown enrollment skipped",
            extra={"event_id": envelope.id, "enrollment_id": event.enrollment_id},
        )


async def on_pooling_region_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn = uow.conn
    event = envelope.event
    assert isinstance(event, PoolingRegionChanged)
    if not await move_enrollment(conn, event.enrollment_id, event.to_region):
        log.warning(
            "move of an unknown enrollment skipped",
            extra={"event_id": envelope.id, "enrollment_id": event.enrollment_id},
        )


SUBSCRIPTION_HANDLERS: dict[str, Handler] = {
    EnrollmentRegistered.ce_type: on_enrollment_registered,
    EnrollmentTerminated.ce_type: on_enrollment_terminated,
    PoolingRegionChanged.ce_type: on_pooling_region_changed,
}
