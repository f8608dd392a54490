"""HTTP API of the maternity service (生育待遇): thin routers over the handlers."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response

from chs_events.access import found_for_person
from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.read_models.enrollments import authorize_for_person
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, from_body
from chs_maternity import domain, handlers, repository
from chs_maternity.commands import ApproveApplication, PayAllowance, SubmitApplication
from chs_maternity.schemas import (
    AllowancePublic,
    ApplicationCreate,
    ApplicationPublic,
    ApproveBody,
    EmployerWage,
    PayBody,
    PersonAllowances,
    Recoveries,
    RecoveryPublic,
)
from chs_maternity.settings import MaternitySettings

TITLE = "CHS maternity (生育待遇)"
DESCRIPTION = """Maternity benefits (生育待遇) of the CHS platform: the maternity allowance
(生育津贴) = the employer's monthly average wage (the mean of its staff's contribution bases)
// 30 × leave days (98; +15 difficult birth; +15 per extra baby; miscarriage before 16 weeks 15,
from 16 weeks 42). Granted without application (免申即享) from a delivery settlement of an enrolled
employee; otherwise applied for, approved and paid. When that settlement is reversed (冲正), an
allowance not yet paid is cancelled and one paid raises a recovery item (追回) for the agency of
the mother's region (`GET /recoveries`). Amounts are integer fen. Results are
published on `chs.maternity.events` through the outbox. Errors are RFC 9457 problem bodies;
`X-Request-Id` becomes the events' correlation id."""

applications = APIRouter(tags=["applications"])
allowances = APIRouter(tags=["allowances"])
employers = APIRouter(tags=["employers"])
recoveries = APIRouter(tags=["recoveries"])


@applications.post("/applications", status_code=201, responses=problem_responses(409, 422))
async def submit_application(
    body: ApplicationCreate,
    caller: Annotated[Caller, allowed("maternity:apply")],
    uow: UnitOfWorkDep,
    response: Response,
) -> ApplicationPublic:
    """→ MaternityApplied (pending). 422 when the person had no employee enrollment with an
    employer on the day; 409 when an allowance was already granted for the confinement."""
    await authorize_for_person(uow.conn, caller, "maternity:apply", body.person_id)
    application = await handlers.handle_submit(uow, from_body(SubmitApplication, body))
    response.headers["Location"] = f"/applications/{application.application_id}"
    return ApplicationPublic.of(application)


@applications.get("/applications/{application_id}", responses=problem_responses(404))
async def get_application(
    application_id: str,
    caller: Annotated[Caller, allowed("maternity:read")],
    conn: Connection,
) -> ApplicationPublic:
    application = await found_for_person(
        conn, caller, "maternity:read", repository.applications, application_id
    )
    allowance = (
        await repository.get_allowance(conn, application.allowance_id)
        if application.allowance_id
        else None
    )
    return ApplicationPublic.of(application, allowance)


@applications.post(
    "/applications/{application_id}/approve", responses=problem_responses(404, 409, 422)
)
async def approve_application(
    application_id: str,
    body: ApproveBody,
    caller: Annotated[Caller, allowed("maternity:approve")],
    uow: UnitOfWorkDep,
) -> ApplicationPublic:
    """Computes the allowance at the employer's wage on the day → MaternityAllowanceApproved."""
    await found_for_person(
        uow.conn, caller, "maternity:approve", repository.applications, application_id
    )
    application, allowance = await handlers.handle_approve(
        uow, ApproveApplication(application_id, body.reviewer)
    )
    return ApplicationPublic.of(application, allowance)


@allowances.get("/allowances/{allowance_id}", responses=problem_responses(404))
async def get_allowance(
    allowance_id: str,
    caller: Annotated[Caller, allowed("maternity:read")],
    conn: Connection,
) -> AllowancePublic:
    allowance = await found_for_person(
        conn, caller, "maternity:read", repository.allowances, allowance_id
    )
    return AllowancePublic.model_validate(allowance)


@allowances.post("/allowances/{allowance_id}/pay", responses=problem_responses(404, 409, 422))
async def pay_allowance(
    allowance_id: str,
    body: PayBody,
    caller: Annotated[Caller, allowed("maternity:pay")],
    uow: UnitOfWorkDep,
) -> AllowancePublic:
    """Record the payment of an approved allowance → MaternityAllowancePaid."""
    await found_for_person(uow.conn, caller, "maternity:pay", repository.allowances, allowance_id)
    command = PayAllowance(allowance_id, body.payment_reference, body.paid_on)
    return AllowancePublic.model_validate(await handlers.handle_pay(uow, command))


@allowances.get("/persons/{person_id}/allowances")
async def person_allowances(
    person_id: str,
    caller: Annotated[Caller, allowed("maternity:read")],
    conn: Connection,
) -> PersonAllowances:
    await authorize_for_person(conn, caller, "maternity:read", person_id)
    return PersonAllowances(
        person_id=person_id,
        allowances=[
            AllowancePublic.model_validate(a)
            for a in await repository.allowances_of(conn, person_id)
        ],
        applications=[
            ApplicationPublic.of(a) for a in await repository.applications_of(conn, person_id)
        ],
    )


@employers.get("/employers/{employer_id}/average-wage")
async def employer_wage(
    employer_id: str,
    caller: Annotated[Caller, allowed("maternity:read-wage")],
    conn: Connection,
    on: Annotated[date | None, Query()] = None,
) -> EmployerWage:
    """The employer's monthly average wage as the allowance uses it on ``on`` (today)."""
    authorize(caller, "maternity:read-wage", Target(employer_id=employer_id))
    day = on or today()
    bases = await repository.staff_bases_on(conn, employer_id, day)
    monthly = domain.average_wage_fen(bases)
    return EmployerWage(
        employer_id=employer_id,
        on=day,
        staff=len(bases),
        monthly_wage_fen=monthly,
        daily_wage_fen=None if monthly is None else domain.daily_wage_fen(monthly),
    )


@recoveries.get("/recoveries")
async def open_recoveries(
    caller: Annotated[Caller, allowed("maternity:read-recoveries")],
    conn: Connection,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Recoveries:
    """The open recovery items (追回) of the agency's region, oldest first: allowances paid from
    a settlement that was reversed (冲正) afterwards."""
    area = caller.claim("region")
    items = await repository.open_recoveries(conn, area, limit) if area else []
    return Recoveries(
        count=len(items), recoveries=[RecoveryPublic.model_validate(r) for r in items]
    )


def create_app(settings: MaternitySettings) -> FastAPI:
    routers = [applications, allowances, employers, recoveries]
    return create_service_app(
        settings, "chs_maternity", title=TITLE, description=DESCRIPTION, routers=routers
    )
