"""Command handlers of case work: each in ONE unit of work (the change and its event commit
together)."""

import logging

from chs_events.clock import now
from chs_events.unit_of_work import UnitOfWork
from chs_fraud import repository
from chs_fraud.commands import OpenCase, ResolveSignal
from chs_fraud.model import Signal

log = logging.getLogger(__name__)


async def handle_open_case(uow: UnitOfWork, command: OpenCase) -> Signal | None:
    """The new case; None when the signal is a case already (raised again)."""
    signal = Signal.open(command)
    async with uow:
        if not await repository.insert_signal(uow.conn, signal):
            log.info("signal already a case", extra={"signal_id": signal.signal_id})
            return None
    return signal


async def handle_resolve(uow: UnitOfWork, command: ResolveSignal) -> Signal:
    """Confirmed or dismissed, once → FraudSignalResolved."""
    async with uow:
        current = await repository.signals.for_change(uow.conn, command.signal_id)
        resolved, event = current.resolve(command, now())
        await repository.save_resolution(uow.conn, resolved)
        await uow.record(event)
    return resolved
