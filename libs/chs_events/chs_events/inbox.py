"""The inbox: a consumer's record of the events whose effect it committed."""

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
