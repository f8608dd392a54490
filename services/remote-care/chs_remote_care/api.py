"""HTTP API of the remote-care service (异地就医备案): thin routers over the handlers."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query, Response

from chs_events.access import found_for_person
from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.policy import allowed
from chs_events.problems import problem_responses
from chs_events.read_models.enrollments import authorize_for_person
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, from_body
from chs_remote_care import handlers
from chs_remote_care.commands import FileRemoteCare, RevokeFiling
from chs_remote_care.schemas import (
    CoverageAnswer,
    FilingCreate,
    FilingList,
    FilingPublic,
    FilingRevoke,
    RegionCode,
)
from chs_remote_care.settings import RemoteCareSettings

TITLE = "CHS remote care (异地就医备案)"
DESCRIPTION = """Remote-care filings (异地就医备案) of the CHS platform: long-term (relocated
retiree, long-term resident, stationed worker; valid until revoked) and temporary (referral,
emergency, self-referred; valid 6 months, back-dated to the admission date), approved at once on
the person's commitment (秒备案), and the coverage answer: is a person covered for care in a
region on a day, and on what basis. Every filing, revocation and expiry is published on
`chs.remote-care.events` through the outbox; the person is told by SMS. A refused filing is a
problem (RFC 9457) naming the rule that failed in its `rule` member (e.g.
`destination_outside_home_city`); it changes nothing and sends no SMS.
`X-Request-Id` becomes the events' correlation id."""


PersonPath = Annotated[str, Path(pattern=r"^p[0-9a-f]{32}$")]


filings = APIRouter(tags=["filings"])
coverage = APIRouter(tags=["coverage"])


@filings.post(
    "/persons/{person_id}/filings", status_code=201, responses=problem_responses(409, 422)
)
async def file_remote_care(
    caller: Annotated[Caller, allowed("remote-care:file")],
    person_id: PersonPath,
    body: FilingCreate,
    uow: UnitOfWorkDep,
    response: Response,
) -> FilingPublic:
    """File and approve at once → RemoteCareFiled. Refused (no event, no SMS): 422 with the
    rule (no active enrollment, destination in the home city, temporary care inside the
    province, back-dating after the discharge was settled), 409 for a second active long-term
    filing."""
    await authorize_for_person(uow.conn, caller, "remote-care:file", person_id)
    filing = await handlers.handle_file(uow, from_body(FileRemoteCare, body, person_id=person_id))
    response.headers["Location"] = f"/filings/{filing.filing_id}"
    return FilingPublic.of(filing)


@filings.get("/persons/{person_id}/filings")
async def list_filings(
    caller: Annotated[Caller, allowed("remote-care:read")], person_id: PersonPath, conn: Connection
) -> FilingList:
    """The person's filings, oldest first, with their status."""
    await authorize_for_person(conn, caller, "remote-care:read", person_id)
    return FilingList(
        person_id=person_id,
        filings=[FilingPublic.of(f) for f in await handlers.filings_of(conn, person_id)],
    )


@filings.get("/filings/{filing_id}", responses=problem_responses(404))
async def get_filing(
    caller: Annotated[Caller, allowed("remote-care:read")], filing_id: str, conn: Connection
) -> FilingPublic:
    return FilingPublic.of(
        await found_for_person(conn, caller, "remote-care:read", handlers.FILINGS, filing_id)
    )


@filings.post("/filings/{filing_id}/revoke", responses=problem_responses(404, 409, 422))
async def revoke_filing(
    caller: Annotated[Caller, allowed("remote-care:revoke")],
    filing_id: str,
    uow: UnitOfWorkDep,
    body: FilingRevoke | None = None,
) -> FilingPublic:
    """Revoke an active filing from today on → RemoteCareRevoked; 409 when it is not active."""
    await found_for_person(uow.conn, caller, "remote-care:revoke", handlers.FILINGS, filing_id)
    return FilingPublic.of(
        await handlers.handle_revoke(uow, RevokeFiling(filing_id, body.reason if body else None))
    )


@coverage.get("/persons/{person_id}/coverage", responses=problem_responses(422))
async def get_coverage(
    caller: Annotated[Caller, allowed("remote-care:coverage")],
    person_id: PersonPath,
    conn: Connection,
    region: Annotated[RegionCode, Query(description="Where the care is")],
    on: Annotated[
        date | None, Query(alias="date", description=("The day of care; today when not given"))
    ] = None,
    emergency: Annotated[bool, Query(description=("Emergency care: counts as filed"))] = False,
) -> CoverageAnswer:
    """Is the person covered for care in ``region`` on ``date``, and under which filing or
    rule — the answer reimbursement needs."""
    await authorize_for_person(conn, caller, "remote-care:coverage", person_id)
    day = on or today()
    answer = await handlers.coverage(conn, person_id, region, day, emergency)
    return CoverageAnswer.of(person_id, region, day, answer)


def create_app(settings: RemoteCareSettings) -> FastAPI:
    routers = [filings, coverage]
    return create_service_app(
        settings, "chs_remote_care", title=TITLE, description=DESCRIPTION, routers=routers
    )
