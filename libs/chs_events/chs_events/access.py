"""A route's one record of a person's business, for a caller: found by its key (else 404) and the
caller authorized for its person (``read_models.enrollments.authorize_for_person``: the person
themself, an agency of one of the person's pooling regions, or else 403)::

    allowance = await found_for_person(conn, caller, "maternity:read", repository.allowances, key)
"""

import asyncpg

from chs_events.auth import Caller
from chs_events.locks import Aggregate
from chs_events.lookups import Lookup
from chs_events.read_models.enrollments import authorize_for_person


async def found_for_person(
    conn: asyncpg.Connection, caller: Caller, action: str, lookup: Lookup[Aggregate], key: str
) -> Aggregate:
    """The record ``key`` of ``lookup`` (``Lookup.found``) once ``caller`` may take ``action``
    on its person's business."""
    record = await lookup.found(conn, key)
    await authorize_for_person(conn, caller, action, record.person_id)
    return record
