"""Command handlers of the push service: a preview reads the projection (one count, one page of
the first matches), in one read-only transaction so both see the same rows."""

import asyncpg

from chs_push import repository
from chs_push.commands import PreviewSegment
from chs_push.domain import masked
from chs_push.model import Preview


async def handle_preview(conn: asyncpg.Connection, command: PreviewSegment) -> Preview:
    segment, today = command.segment, command.today
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        count = await repository.count_matching(conn, segment, today)
        first = (
            await repository.matching_page(conn, segment, today, limit=command.sample_size)
            if count and command.sample_size
            else []
        )
    return Preview(
        count=count,
        sample=tuple(masked(person_id) for person_id in first),
        as_of=today,
        region_prefix=segment.region_prefix or "",
    )
