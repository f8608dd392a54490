"""The remote-care filing read model: person → filings (异地就医备案), kept from
``chs.remote-care.events``.

``RemoteCareFiled`` inserts the filing (a replay changes nothing); ``RemoteCareRevoked`` sets
the day cover ends. ``RemoteCareExpired`` changes nothing: the filing's ``valid_until`` already
ends its cover. A revocation of a filing never seen is logged and skipped. Every write is keyed
by filing id, so it is idempotent on its own as well as under the consumer's inbox claim.

Use: opt into the table (``READ_MODELS = (..., "filings")`` in the service's migrations
package) and subscribe ``Subscription("<service>-filings", TOPICS, SUBSCRIPTION_HANDLERS)``.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import asyncpg

from chs_events.consumer import Handler
from chs_events.envelope import Envelope
from chs_events.events.remote_care import RemoteCareFiled, RemoteCareRevoked
from chs_events.regions import covers
from chs_events.topics import REMOTE_CARE_EVENTS
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

NAME = "filings"
TOPICS = [REMOTE_CARE_EVENTS]
_COLUMNS = (
    "filing_id, person_id, filing_type, category, destination_region, valid_from, "
    "valid_until, revoked_on"
)


class Cover:
    """The days and place a filing covers, for any filing type with ``valid_from``,
    ``valid_until``, ``revoked_on`` and ``destination_region`` (this read model's and the
    remote-care service's own)."""

    valid_from: date
    valid_until: date | None
    revoked_on: date | None
    destination_region: str
    filing_type: str

    @property
    def last_covered_day(self) -> date | None:
        """None: open-ended. A revocation ends cover the day before ``revoked_on``."""
        ends = [
            d
            for d in (
                self.valid_until,
                self.revoked_on - timedelta(days=1) if self.revoked_on else None,
            )
            if d is not None
        ]
        return min(ends) if ends else None

    def covers(self, place: str, day: date) -> bool:
        last = self.last_covered_day
        return (
            self.valid_from <= day
            and (last is None or day <= last)
            and covers(self.destination_region, place)
        )


C = TypeVar("C", bound=Cover)


def covering(filings: Iterable[C], place: str, day: date) -> C | None:
    """The filing that covers care in ``place`` on ``day``: a long-term one before a temporary
    one, then the earliest."""
    matching = sorted(
        (f for f in filings if f.covers(place, day)),
        key=lambda f: (f.filing_type != "long_term", f.valid_from),
    )
    return matching[0] if matching else None


@dataclass(frozen=True)
class Filing(Cover):
    """One filing as the read model knows it."""

    filing_id: str
    person_id: str
    filing_type: str
    category: str
    destination_region: str
    valid_from: date
    valid_until: date | None = None
    revoked_on: date | None = None


async def filings_of(conn: asyncpg.Connection, person_id: str) -> list[Filing]:
    rows = await conn.fetch(
        f"select {_COLUMNS} from filing_view where person_id = $1 order by valid_from, filing_id",
        person_id,
    )
    return [Filing(**row) for row in rows]


async def on_filed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn = uow.conn
    event = envelope.event
    assert isinstance(event, RemoteCareFiled)
    await conn.execute(
        f"""insert into filing_view ({_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, null)
            on conflict (filing_id) do nothing""",
        event.filing_id,
        event.person_id,
        event.filing_type,
        event.category,
        event.destination_region,
        event.valid_from,
        event.valid_until,
    )


async def on_revoked(uow: UnitOfWork, envelope: Envelope) -> None:
    conn = uow.conn
    event = envelope.event
    assert isinstance(event, RemoteCareRevoked)
    status = await conn.execute(
        "update filing_view set revoked_on = $2, updated_at = now() where filing_id = $1",
        event.filing_id,
        event.revoked_on,
    )
    if status == "UPDATE 0":
        log.warning(
            "revocation of an unknown filing skipped",
            extra={"event_id": envelope.id, "filing_id": event.filing_id},
        )


SUBSCRIPTION_HANDLERS: dict[str, Handler] = {
    RemoteCareFiled.ce_type: on_filed,
    RemoteCareRevoked.ce_type: on_revoked,
}
