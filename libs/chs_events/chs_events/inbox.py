"""The inbox: a consumer's record of the events whose effect it committed."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from chs_events.envelope import Envelope


async def claim(conn: asyncpg.Connection, consumer: str, envelope: Envelope) -> bool:
    """Mark the event processed by ``consumer`` inside the caller's transaction.

    False when it was processed before: the caller skips the effect.
    """
    inserted = await conn.fetchval(
        """insert into inbox (consumer, event_id, event_type) values ($1, $2, $3)
           on conflict do nothing returning true""",
        consumer,
        envelope.id,
        envelope.type,
    )
    return bool(inserted)


async def claim_all(
    conn: asyncpg.Connection, consumer: str, envelopes: Sequence[Envelope]
) -> set[UUID]:
    """``claim`` for many events in one statement: the ids not processed before."""
    claimed = await conn.fetch(
        """insert into inbox (consumer, event_id, event_type)
           select $1, e.id, e.type from unnest($2::uuid[], $3::text[]) as e(id, type)
           on conflict do nothing returning event_id""",
        consumer,
        [envelope.id for envelope in envelopes],
        [envelope.type for envelope in envelopes],
    )
    return {row[0] for row in claimed}
