"""The expiry job (``chs_events.scheduled``): ends the certifications whose last valid day has
passed, ``expiry_batch_size`` candidates at a time, each in a transaction of its own. Run beside
the consumers every ``CHS_EXPIRY_INTERVAL_SECONDS`` and by ``python -m chs_chronic expire``; safe
with several instances (a certification is taken ``for update skip locked`` under the person's
lock)."""

import logging

import asyncpg

from chs_chronic import handlers, repository
from chs_chronic.commands import ExpireCertification
from chs_events.clock import today
from chs_events.settings import ExpirySettings
from chs_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

JOB_NAME = "chronic-expiry"


async def expire_due(pool: asyncpg.Pool, settings: ExpirySettings) -> int:
    """End every certification due today; returns how many this run ended (another instance
    may end some of the candidates)."""
    day = today()
    batch = settings.expiry_batch_size
    ended = 0
    async with pool.acquire() as conn:
        while True:
            ended_now = 0
            for certification_id, person_id in await repository.due_for_expiry(conn, day, batch):
                command = ExpireCertification(certification_id, person_id, day)
                uow = UnitOfWork(conn, source=settings.ce_source)
                if await handlers.handle_expire(uow, command) is not None:
                    ended_now += 1
            ended += ended_now
            if ended_now < batch:  # the rest (if any) is another instance's
                break
    if ended:
        log.info("certifications expired", extra={"count": ended, "day": day.isoformat()})
    return ended
