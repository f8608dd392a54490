"""HTTP API of the transfer service (关系转移接续): thin routers over the handlers.

Who calls what:
- ``POST /transfers`` — the insured person, through the public service apps (or an agency
  window on their behalf);
- ``POST /transfers/{id}/out-confirmation`` — the out-region's agency system (转出地经办机构),
  across provinces;
- ``POST /transfers/{id}/completion`` — the in-region's agency system (转入地经办机构); into the
  province with the balance the out-province confirmed through the national transfer platform
  and the platform's reference (the caller's subject is recorded as who entered them);
- ``POST /transfers/{id}/rejection`` — the out-region (while requested) or the in-region (once
  out-confirmed), with a reason;
- ``GET`` — the person and the agencies of the out and the in region following the transfer.

Who may (``chs_events.policy``): a request, the person themself or an agency of the person's
pooling region (``regions_of`` of the enrollment read model); a transfer's read, its person or an
agency of its out or in region (a person's list: of the person's regions or their transfers');
with ``transfer:confirm``, the out-confirmation an agency of the out region, the completion one
of the in region (across provinces: the other province), a rejection one of either.

Nobody states the personal-account balance a transfer moves within or out of the province: the
ledger moves what it holds and reports it (``account_balance_fen`` follows the accounts service's
events). An amount stated anywhere but at the completion of a transfer into the province answers
403 (``balance_not_yours_to_state``).
"""

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request, Response

from chs_events import policy
from chs_events.auth import Caller
from chs_events.policy import Target, allowed
from chs_events.problems import problem_responses
from chs_events.read_models import enrollments
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, found
from chs_transfer import domain, handlers, repository
from chs_transfer.commands import CompleteTransfer, ConfirmOut, RejectTransfer, RequestTransfer
from chs_transfer.model import Transfer
from chs_transfer.schemas import (
    Completion,
    OutConfirmation,
    Rejection,
    TransferCreate,
    TransferList,
    TransferPublic,
)
from chs_transfer.settings import TransferSettings

TITLE = "CHS transfer (关系转移接续)"
DESCRIPTION = """Relationship transfer (关系转移接续) of an employee's basic insurance (310) between
pooling regions. Within one province a request completes at once; across provinces it goes
requested → out-confirmed (months paid) → completed, or rejected with a reason. The
personal-account balance is the ledger's: the accounts service moves what it holds when the
transfer completes and `account_balance_fen` shows what it reported; a transfer into the
province takes the balance the out-province confirmed through the national transfer platform,
entered at the completion by the receiving region's staff with the platform's reference
(integer fen, bounded). Every step is published on `chs.transfer.events` through
the outbox; enrollment moves the pooling region when the transfer completes. Errors are RFC 9457
problem bodies; `X-Request-Id` becomes the events' correlation id."""


async def _settings(request: Request) -> TransferSettings:
    return request.app.state.settings


Settings = Annotated[TransferSettings, Depends(_settings)]

READ, CONFIRM = "transfer:read", "transfer:confirm"
Confirming = Annotated[Caller, allowed(CONFIRM)]


async def _transfer(conn: asyncpg.Connection, transfer_id: str) -> Transfer:
    transfer = await repository.get_transfer(conn, transfer_id)
    return found(transfer, domain.TransferNotFound(f"no transfer {transfer_id}"))


def _person(transfer: Transfer) -> Target:
    """The transfer's person, served by the agencies of its out and its in region."""
    return Target(person_id=transfer.person_id, regions=(transfer.from_region, transfer.to_region))


transfers = APIRouter(tags=["transfers"])


@transfers.post("/transfers", status_code=201, responses=problem_responses(403, 409, 422))
async def request_transfer(
    body: TransferCreate,
    uow: UnitOfWorkDep,
    settings: Settings,
    response: Response,
    caller: Annotated[Caller, allowed("transfer:request")],
) -> TransferPublic:
    """The insured person asks for a transfer → TransferRequested; within the province also
    TransferCompleted at once (status `completed`). 422 without an active employee (310)
    enrollment or to the own pooling region; 409 while another transfer is open."""
    regions = await enrollments.regions_of(uow.conn, body.person_id)
    policy.authorize(caller, "transfer:request", Target(person_id=body.person_id, regions=regions))
    transfer = await handlers.handle_request(
        uow, RequestTransfer(body.person_id, body.to_region), settings
    )
    response.headers["Location"] = f"/transfers/{transfer.transfer_id}"
    return TransferPublic.model_validate(transfer)


@transfers.get("/transfers/{transfer_id}", responses=problem_responses(403, 404))
async def get_transfer(
    transfer_id: str, conn: Connection, caller: Annotated[Caller, allowed(READ)]
) -> TransferPublic:
    transfer = await _transfer(conn, transfer_id)
    policy.authorize(caller, READ, _person(transfer))
    return TransferPublic.model_validate(transfer)


@transfers.get("/persons/{person_id}/transfers", responses=problem_responses(403))
async def transfers_of(
    person_id: str, conn: Connection, caller: Annotated[Caller, allowed(READ)]
) -> TransferList:
    """The person's transfers: for the person or an agency of one of the person's pooling
    regions or of their transfers' out or in regions."""
    known = await repository.transfers_of(conn, person_id)
    regions = await enrollments.regions_of(conn, person_id)
    regions.update(region for t in known for region in (t.from_region, t.to_region))
    policy.authorize(caller, READ, Target(person_id=person_id, regions=regions))
    return TransferList(
        person_id=person_id, transfers=[TransferPublic.model_validate(t) for t in known]
    )


@transfers.post(
    "/transfers/{transfer_id}/out-confirmation", responses=problem_responses(403, 404, 409, 422)
)
async def confirm_out(
    transfer_id: str,
    body: OutConfirmation,
    uow: UnitOfWorkDep,
    settings: Settings,
    caller: Confirming,
) -> TransferPublic:
    """The out-region confirms the months paid → TransferOutConfirmed. Only a requested
    cross-province transfer (409 otherwise); only an agency of the out region; a stated
    balance is 403."""
    transfer = await _transfer(uow.conn, transfer_id)
    policy.authorize(caller, CONFIRM, Target(regions=(transfer.from_region,)))
    return TransferPublic.model_validate(
        await handlers.handle_confirm_out(
            uow, ConfirmOut(transfer_id, body.account_balance_fen), settings
        )
    )


@transfers.post(
    "/transfers/{transfer_id}/completion", responses=problem_responses(403, 404, 409, 422)
)
async def complete(
    transfer_id: str, body: Completion, uow: UnitOfWorkDep, settings: Settings, caller: Confirming
) -> TransferPublic:
    """The in-region takes the insurance over → TransferCompleted. Only once out-confirmed;
    only an agency of the in region. Into the province with the balance the national transfer
    platform confirmed and its reference (422 without); out of it with neither (403)."""
    transfer = await _transfer(uow.conn, transfer_id)
    policy.authorize(caller, CONFIRM, Target(regions=(transfer.to_region,)))
    command = CompleteTransfer(
        transfer_id, body.account_balance_fen, body.platform_reference, caller.subject
    )
    return TransferPublic.model_validate(await handlers.handle_complete(uow, command, settings))


@transfers.post(
    "/transfers/{transfer_id}/rejection", responses=problem_responses(403, 404, 409, 422)
)
async def reject(
    transfer_id: str, body: Rejection, uow: UnitOfWorkDep, settings: Settings, caller: Confirming
) -> TransferPublic:
    """The out-region (while requested) or the in-region (once out-confirmed) refuses, with a
    reason → TransferRejected. Only an agency of the out or the in region."""
    transfer = await _transfer(uow.conn, transfer_id)
    policy.authorize(caller, CONFIRM, Target(regions=(transfer.from_region, transfer.to_region)))
    return TransferPublic.model_validate(
        await handlers.handle_reject(
            uow, RejectTransfer(transfer_id, body.by, body.reason_code), settings
        )
    )


def create_app(settings: TransferSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_transfer", title=TITLE, description=DESCRIPTION, routers=[transfers]
    )
