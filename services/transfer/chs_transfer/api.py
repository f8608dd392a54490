"""HTTP API of the transfer service (关系转移接续): thin routers over the handlers.

Who calls what:
- ``POST /transfers`` — the insured person, through the public service apps (or an agency
  window on their behalf);
- ``POST /transfers/{id}/out-confirmation`` — the out-region's agency system (转出地经办机构),
  across provinces;
- ``POST /transfers/{id}/completion`` — the in-region's agency system (转入地经办机构);
- ``POST /transfers/{id}/rejection`` — the out-region (while requested) or the in-region (once
  out-confirmed), with a reason;
- ``GET`` — anyone following the transfer (the apps, the agencies).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, found
from chs_transfer import domain, handlers, repository
from chs_transfer.commands import CompleteTransfer, ConfirmOut, RejectTransfer, RequestTransfer
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
requested → out-confirmed (months paid, personal-account balance to move, integer fen) →
completed, or rejected with a reason. Every step is published on `chs.transfer.events` through
the outbox; enrollment moves the pooling region when the transfer completes. Errors are RFC 9457
problem bodies; `X-Request-Id` becomes the events' correlation id."""


def _settings(request: Request) -> TransferSettings:
    return request.app.state.settings


Settings = Annotated[TransferSettings, Depends(_settings)]


transfers = APIRouter(tags=["transfers"])


@transfers.post("/transfers", status_code=201, responses=problem_responses(409, 422))
async def request_transfer(
    body: TransferCreate, uow: UnitOfWorkDep, settings: Settings, response: Response
) -> TransferPublic:
    """The insured person asks for a transfer → TransferRequested; within the province also
    TransferCompleted at once (status `completed`). 422 without an active employee (310)
    enrollment or to the own pooling region; 409 while another transfer is open."""
    transfer = await handlers.handle_request(
        uow, RequestTransfer(body.person_id, body.to_region), settings
    )
    response.headers["Location"] = f"/transfers/{transfer.transfer_id}"
    return TransferPublic.model_validate(transfer)


@transfers.get("/transfers/{transfer_id}", responses=problem_responses(404))
async def get_transfer(transfer_id: str, conn: Connection) -> TransferPublic:
    transfer = await repository.get_transfer(conn, transfer_id)
    return TransferPublic.model_validate(
        found(transfer, domain.TransferNotFound(f"no transfer {transfer_id}"))
    )


@transfers.get("/persons/{person_id}/transfers")
async def transfers_of(person_id: str, conn: Connection) -> TransferList:
    return TransferList(
        person_id=person_id,
        transfers=[
            TransferPublic.model_validate(t) for t in await repository.transfers_of(conn, person_id)
        ],
    )


@transfers.post(
    "/transfers/{transfer_id}/out-confirmation", responses=problem_responses(404, 409, 422)
)
async def confirm_out(
    transfer_id: str, body: OutConfirmation, uow: UnitOfWorkDep, settings: Settings
) -> TransferPublic:
    """The out-region confirms months paid and the balance to move → TransferOutConfirmed.
    Only a requested cross-province transfer (409 otherwise)."""
    return TransferPublic.model_validate(
        await handlers.handle_confirm_out(
            uow, ConfirmOut(transfer_id, body.account_balance_fen), settings
        )
    )


@transfers.post("/transfers/{transfer_id}/completion", responses=problem_responses(404, 409))
async def complete(
    transfer_id: str, body: Completion, uow: UnitOfWorkDep, settings: Settings
) -> TransferPublic:
    """The in-region takes the insurance over → TransferCompleted. Only once out-confirmed."""
    return TransferPublic.model_validate(
        await handlers.handle_complete(uow, CompleteTransfer(transfer_id), settings)
    )


@transfers.post("/transfers/{transfer_id}/rejection", responses=problem_responses(404, 409, 422))
async def reject(
    transfer_id: str, body: Rejection, uow: UnitOfWorkDep, settings: Settings
) -> TransferPublic:
    """The out-region (while requested) or the in-region (once out-confirmed) refuses, with a
    reason → TransferRejected."""
    return TransferPublic.model_validate(
        await handlers.handle_reject(
            uow, RejectTransfer(transfer_id, body.by, body.reason), settings
        )
    )


def create_app(settings: TransferSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_transfer", title=TITLE, description=DESCRIPTION, routers=[transfers]
    )
