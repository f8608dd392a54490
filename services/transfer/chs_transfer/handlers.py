"""Command handlers: each runs in ONE unit of work that loads and locks the transfer, calls its
method (``model.Transfer``), saves what it returns and records its events in the outbox. A
request locks the person's enrollment rows of the read model first, so two requests for one
person serialize; a later step locks the transfer's row.

No handler counts a personal-account balance: ``record_ledger_movement`` takes the amounts the
accounts service reports (``consumers``)."""

import asyncpg
import uuid6

from chs_events.clock import today
from chs_events.errors import InvalidField
from chs_events.read_models import enrollments
from chs_events.unit_of_work import UnitOfWork
from chs_transfer import domain, repository
from chs_transfer.commands import CompleteTransfer, ConfirmOut, RejectTransfer, RequestTransfer
from chs_transfer.model import COMPLETED, PlatformConfirmation, Transfer
from chs_transfer.settings import TransferSettings


async def _completed(conn: asyncpg.Connection, transfer: Transfer) -> None:
    # The read model follows at once: PoolingRegionChanged from enrollment later says the same.
    await enrollments.move_enrollment(conn, transfer.enrollment_id, transfer.to_region)


async def handle_request(
    uow: UnitOfWork, command: RequestTransfer, settings: TransferSettings
) -> Transfer:
    """→ TransferRequested; within the province also TransferCompleted, in the same transaction."""
    async with uow:
        conn = uow.conn
        known = await enrollments.enrollments_of(conn, command.person_id, for_update=True)
        enrollment = domain.active_employee_enrollment(known, today())
        transfer, events = Transfer.request(
            str(uuid6.uuid7()),
            enrollment,
            await repository.open_transfer(conn, command.person_id),
            command.to_region,
            today(),
            await repository.contributions_of(conn, enrollment.enrollment_id),
        )
        await repository.insert_transfer(conn, transfer)
        if transfer.status == COMPLETED:
            await _completed(conn, transfer)
        await uow.record(*events)
    return transfer


async def _locked(conn: asyncpg.Connection, transfer_id: str) -> Transfer:
    transfer = await repository.get_transfer(conn, transfer_id, lock=True)
    if transfer is None:
        raise domain.TransferNotFound(f"no transfer {transfer_id}")
    return transfer


async def handle_confirm_out(
    uow: UnitOfWork, command: ConfirmOut, settings: TransferSettings
) -> Transfer:
    """The out-region's confirmation → TransferOutConfirmed."""
    async with uow:
        conn = uow.conn
        transfer = await _locked(conn, command.transfer_id)
        transfer, confirmed = transfer.confirm_out(
            await repository.contributions_of(conn, transfer.enrollment_id),
            today(),
            command.account_balance_fen,
        )
        await repository.update_transfer(conn, transfer)
        await uow.record(confirmed)
    return transfer


def _confirmation(command: CompleteTransfer) -> PlatformConfirmation | None:
    stated = (command.account_balance_fen, command.platform_reference)
    if stated == (None, None):
        return None
    if command.account_balance_fen is None or command.platform_reference is None:
        missing = (
            "platform_reference" if command.platform_reference is None else "account_balance_fen"
        )
        raise InvalidField(
            missing, "account_balance_fen and platform_reference are stated together"
        )
    if not command.confirmed_by:
        raise InvalidField("confirmed_by", "the staff who entered the confirmation is unknown")
    return PlatformConfirmation(
        command.account_balance_fen, command.platform_reference, command.confirmed_by
    )


async def handle_complete(
    uow: UnitOfWork, command: CompleteTransfer, settings: TransferSettings
) -> Transfer:
    """The in-region's completion → TransferCompleted (into the province with the national
    platform's confirmed balance)."""
    confirmation = _confirmation(command)
    async with uow:
        conn = uow.conn
        transfer, completed = (await _locked(conn, command.transfer_id)).complete(
            today(), settings.home_province, confirmation
        )
        await repository.update_transfer(conn, transfer)
        await _completed(conn, transfer)
        await uow.record(completed)
    return transfer


async def handle_reject(
    uow: UnitOfWork, command: RejectTransfer, settings: TransferSettings
) -> Transfer:
    """A rejection by the out-region (while requested) or the in-region (once out-confirmed)
    → TransferRejected."""
    async with uow:
        conn = uow.conn
        transfer, rejected = (await _locked(conn, command.transfer_id)).reject(
            command.rejected_by, command.reason_code, today()
        )
        await repository.update_transfer(conn, transfer)
        await uow.record(rejected)
    return transfer


async def record_ledger_movement(
    uow: UnitOfWork, transfer_id: str, transaction_id: str, amount_fen: int
) -> None:
    """A movement the ledger reported for the transfer: the transfer's ``account_balance_fen``
    is the sum of them (a redelivered movement counts once)."""
    async with uow:
        await repository.record_ledger_movement(uow.conn, transfer_id, transaction_id, amount_fen)
