"""Command handlers: each runs in ONE transaction that changes the transfer and records its
events in the outbox. A request locks the person's enrollment rows of the read model first, so
two requests for one person serialize; a later step locks the transfer's row."""
import asyncpg
import uuid6

from chs_events.clock import today
from chs_events.events.base import Event
from chs_events.events.transfer import (
    TransferCompleted,
    TransferOutConfirmed,
    TransferRejected,
    TransferRequested,
)
from chs_events.read_models import enrollments
from chs_events.unit_of_work import UnitOfWork

from chs_transfer import domain, repository
from chs_transfer.commands import (
    Command,
    CompleteTransfer,
    ConfirmOut,
    RejectTransfer,
    RequestTransfer,
)
from chs_transfer.model import AllocationRule, Transfer
from chs_transfer.settings import TransferSettings

SOURCE = "/chs/transfer"


def allocation_rule(settings: TransferSettings) -> AllocationRule:
    return AllocationRule(settings.account_personal_part_percent,
                          settings.account_employer_part_percent)


def unit_of_work(conn: asyncpg.Connection, command: Command) -> UnitOfWork:
    """The command's transaction; its events carry the command's correlation id."""
    return UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id)


def _ids(t: Transfer) -> dict:
    return dict(person_id=t.person_id, transfer_id=t.transfer_id,
                enrollment_id=t.enrollment_id, from_region=t.from_region, to_region=t.to_region)


def requested(t: Transfer) -> TransferRequested:
    return TransferRequested(**_ids(t), cross_province=t.cross_province,
                             requested_on=t.requested_on)


def out_confirmed(t: Transfer) -> TransferOutConfirmed:
    return TransferOutConfirmed(**_ids(t), contribution_months=t.contribution_months or 0,
                                account_balance_fen=t.account_balance_fen or 0,
                                confirmed_on=t.out_confirmed_on)


def completed(t: Transfer) -> TransferCompleted:
    return TransferCompleted(**_ids(t), cross_province=t.cross_province,
                             contribution_months=t.contribution_months or 0,
                             account_balance_fen=t.account_balance_fen or 0,
                             completed_on=t.completed_on)


def rejected(t: Transfer) -> TransferRejected:
    return TransferRejected(**_ids(t), rejected_by=t.rejected_by, reason=t.reason,
                            rejected_on=t.rejected_on)


async def _completed(conn: asyncpg.Connection, transfer: Transfer) -> None:
    # The read model follows at once: PoolingRegionChanged from enrollment later says the same.
    await enrollments.move_enrollment(conn, transfer.enrollment_id, transfer.to_region)


async def handle_request(conn: asyncpg.Connection, command: RequestTransfer,
                         settings: TransferSettings) -> Transfer:
    """→ TransferRequested; within the province also TransferCompleted, in the same transaction."""
    async with unit_of_work(conn, command) as uow:
        known = await enrollments.enrollments_of(conn, command.person_id, for_update=True)
        enrollment = domain.active_employee_enrollment(known, today())
        transfer = domain.request(
            str(uuid6.uuid7()), enrollment, await repository.open_transfer(conn, command.person_id),
            command.to_region, today(), await repository.contributions_of(
                conn, enrollment.enrollment_id), allocation_rule(settings))
        await repository.insert_transfer(conn, transfer)
        events: list[Event] = [requested(transfer)]
        if transfer.status == "completed":
            await _completed(conn, transfer)
            events.append(completed(transfer))
        await uow.record(*events)
    return transfer


async def _locked(conn: asyncpg.Connection, transfer_id: str) -> Transfer:
    transfer = await repository.get_transfer(conn, transfer_id, lock=True)
    if transfer is None:
        raise domain.TransferNotFound(f"no transfer {transfer_id}")
    return transfer


async def handle_confirm_out(conn: asyncpg.Connection, command: ConfirmOut,
                             settings: TransferSettings) -> Transfer:
    """The out-region's confirmation → TransferOutConfirmed."""
    async with unit_of_work(conn, command) as uow:
        transfer = await _locked(conn, command.transfer_id)
        transfer = domain.confirm_out(
            transfer, await repository.contributions_of(conn, transfer.enrollment_id),
            allocation_rule(settings), today(), command.account_balance_fen)
        await repository.update_transfer(conn, transfer)
        await uow.record(out_confirmed(transfer))
    return transfer


async def handle_complete(conn: asyncpg.Connection, command: CompleteTransfer,
                          settings: TransferSettings) -> Transfer:
    """The in-region's completion → TransferCompleted."""
    async with unit_of_work(conn, command) as uow:
        transfer = domain.complete(await _locked(conn, command.transfer_id), today())
        await repository.update_transfer(conn, transfer)
        await _completed(conn, transfer)
        await uow.record(completed(transfer))
    return transfer


async def handle_reject(conn: asyncpg.Connection, command: RejectTransfer,
                        settings: TransferSettings) -> Transfer:
    """A rejection by the out-region (while requested) or the in-region (once out-confirmed)
    → TransferRejected."""
    async with unit_of_work(conn, command) as uow:
        transfer = domain.reject(await _locked(conn, command.transfer_id), command.rejected_by,
                                 command.reason, today())
        await repository.update_transfer(conn, transfer)
        await uow.record(rejected(transfer))
    return transfer
