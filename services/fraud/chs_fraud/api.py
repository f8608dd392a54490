"""HTTP API of the fraud service (基金监管): case work on the signals, for auditors of their
region (agency staff with the scope ``fraud:review``)."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query

from chs_events.auth import Caller
from chs_events.events.fraud import SignalKind
from chs_events.fields import RegionCode
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app
from chs_fraud import handlers, repository
from chs_fraud.commands import ResolveSignal
from chs_fraud.domain import SignalStatus
from chs_fraud.model import Signal
from chs_fraud.repository import Worklist
from chs_fraud.schemas import ResolutionBody, SignalPage, SignalPublic
from chs_fraud.settings import FraudSettings

TITLE = "CHS fraud signals (基金监管)"
DESCRIPTION = """Case work on the fraud signals of the CHS platform. The fraud processor matches
the death and traffic-accident records of the feeds against the benefits paid (settlements,
claim payments, account debits, maternity allowances) and raises a signal for a benefit after
the date of death, an injury another party is liable for (医保警) and a near-duplicate bill. A
signal is a lead, not a verdict: an auditor of its region reads its evidence and resolves it
once, confirmed with the amount recovered or dismissed with the reason (FraudSignalResolved on
`chs.fraud.signals` through the outbox). Errors are RFC 9457 problem bodies."""

router = APIRouter(tags=["signals"])


def _of(signal: Signal) -> Target:
    return Target(person_id=signal.person_id, regions=(signal.region,))


@router.get("/signals", responses=problem_responses(403))
async def list_signals(
    caller: Annotated[Caller, allowed("fraud:read-signals")],
    conn: Connection,
    kind: SignalKind | None = None,
    status: SignalStatus | None = None,
    region: Annotated[
        RegionCode | None, Query(description="Within the auditor's region (default: it)")
    ] = None,
    min_amount_fen: Annotated[int | None, Query(ge=0)] = None,
    max_amount_fen: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SignalPage:
    """The signals of the auditor's region (or of a part of it), the largest amounts first."""
    area = region or caller.claim("region")
    if area is None:
        return SignalPage(total=0, offset=offset, limit=limit, signals=[])
    authorize(caller, "fraud:read-signals", Target(regions=(area,)))
    asked = Worklist(area, kind, status, min_amount_fen, max_amount_fen)
    total, page = await repository.worklist(conn, asked, limit, offset)
    return SignalPage(
        total=total,
        offset=offset,
        limit=limit,
        signals=[SignalPublic.model_validate(s) for s in page],
    )


@router.get("/signals/{signal_id}", responses=problem_responses(403, 404))
async def get_signal(
    caller: Annotated[Caller, allowed("fraud:read-signals")], signal_id: str, conn: Connection
) -> SignalPublic:
    """One signal with its evidence: the benefits, the record and their dates."""
    signal = await repository.signals.found(conn, signal_id)
    authorize(caller, "fraud:read-signals", _of(signal))
    return SignalPublic.model_validate(signal)


@router.post("/signals/{signal_id}/resolution", responses=problem_responses(403, 404, 409, 422))
async def resolve_signal(
    caller: Annotated[Caller, allowed("fraud:resolve")],
    signal_id: str,
    body: ResolutionBody,
    uow: UnitOfWorkDep,
) -> SignalPublic:
    """Confirmed with the amount recovered (at most the amount at stake) or dismissed with the
    reason → FraudSignalResolved; 409 when it is resolved already."""
    signal = await repository.signals.found(uow.conn, signal_id)
    authorize(caller, "fraud:resolve", _of(signal))
    resolved = await handlers.handle_resolve(
        uow,
        ResolveSignal(signal_id, body.outcome, body.recovered_fen, body.reason, caller.subject),
    )
    return SignalPublic.model_validate(resolved)


def create_app(settings: FraudSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_fraud", title=TITLE, description=DESCRIPTION, routers=[router]
    )
