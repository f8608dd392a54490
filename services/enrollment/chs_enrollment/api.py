"""HTTP API of the enrollment service (参保登记): thin routers over the handlers."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from chs_enrollment import domain, examples, handlers, registry, staff, views
from chs_enrollment.auth import (
    Admin,
    InstitutionsAdmin,
    InstitutionsChangeAdmin,
    OptionalEmployerKey,
    api_key_hash,
    authorize_employer_caller,
    key_or_token,
    new_api_key,
    staff_employer,
)
from chs_enrollment.commands import (
    AddStaff,
    ChangeContact,
    ChangeInstitution,
    ConfirmContact,
    EnrollEmployee,
    EnrollNewborn,
    Leaver,
    NewStaff,
    RecordContribution,
    RegisterEmployer,
    RegisterInstitution,
    RegisterPerson,
    RemoveStaff,
)
from chs_enrollment.schemas import (
    CertificateEnrollment,
    CertificatePublic,
    ContactChangePublic,
    ContactConfirmation,
    ContactUpdate,
    ContributionCreate,
    ContributionPublic,
    EmployerCreate,
    EmployerCreated,
    EnrollmentCreate,
    EnrollmentPublic,
    InstitutionCreate,
    InstitutionPublic,
    InstitutionUpdate,
    NewbornCreate,
    PersonCreate,
    PersonPublic,
    StaffBatchAdd,
    StaffBatchRemove,
    StaffBatchResult,
    StaffChangePublic,
)
from chs_enrollment.settings import EnrollmentSettings
from chs_enrollment.staff import StaffChange
from chs_events.auth import Caller
from chs_events.clock import now, today
from chs_events.errors import NotFound
from chs_events.identity import normalize_id_number
from chs_events.masking import mask_mobile
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import Unauthorized, problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, found, from_body
from chs_events.vocabulary import INSUTYPE_NAMES

TITLE = "CHS enrollment (参保登记)"
DESCRIPTION = """The person registry and enrollment (参保登记) of the CHS platform: persons,
resident (390) and employee (310) enrollments, employers' staff batches (增减员) with an
employer API key, newborn enrollment (出生即参保), contributions and the enrollment certificate
(参保证明), and the registry of designated institutions (定点医疗机构). Every change is published
on `chs.enrollment.events` through the outbox, a person's name and mobile only on
`chs.enrollment.contacts` (for notification), a registered institution on
`chs.registry.institutions`. A mobile change takes effect when the one-time code sent to the
new mobile is confirmed. Errors are
RFC 9457 problem bodies; `X-Request-Id` becomes the events' correlation id."""


async def _settings(request: Request) -> EnrollmentSettings:
    return request.app.state.settings


Settings = Annotated[EnrollmentSettings, Depends(_settings)]
ChangesStaff = Annotated[str, staff_employer("enrollment:change-staff")]


async def _readable_person(
    person_id: str,
    caller: Annotated[Caller, allowed("enrollment:read-person")],
    conn: Connection,
) -> str:
    """The path's person, when the caller is that person or an agency of a region the person
    is enrolled in."""
    regions = await views.pooling_regions(conn, person_id)
    authorize(caller, "enrollment:read-person", Target(person_id=person_id, regions=regions))
    return person_id


ReadablePerson = Annotated[str, Depends(_readable_person)]


# A refused ID number, as POST /persons answers it.
_REGISTER_PERSON_PROBLEMS = problem_responses(409, 422)
_REGISTER_PERSON_PROBLEMS[422]["content"] = {
    "application/json": {"example": examples.INVALID_ID_NUMBER}
}

persons = APIRouter(tags=["persons"])
# Its routes accept an employer's API key or the admin token as well as a bearer token.
employers = APIRouter(tags=["employers"])
benefits = APIRouter(tags=["newborns and contributions"])
institutions = APIRouter(tags=["institutions"])
# Registering accepts the admin token as well as an admin's bearer token.
institution_registration = APIRouter(tags=["institutions"])


@persons.post("/persons", status_code=201, responses=_REGISTER_PERSON_PROBLEMS)
async def register_person(
    body: PersonCreate,
    caller: Annotated[Caller, allowed("enrollment:register-person")],
    uow: UnitOfWorkDep,
    settings: Settings,
    response: Response,
) -> PersonPublic:
    """Register a person → PersonRegistered (a person registers only themself)."""
    registered = handlers.person_id_of(normalize_id_number(body.id_number), settings)
    authorize(caller, "enrollment:register-person", Target(person_id=registered))
    view = await handlers.handle_register_person(uow, from_body(RegisterPerson, body), settings)
    response.headers["Location"] = f"/persons/{view.person.person_id}"
    return PersonPublic.of(view.person, view.enrollments, today())


@persons.get("/persons/{person_id}", responses=problem_responses(404))
async def get_person(person_id: ReadablePerson, conn: Connection) -> PersonPublic:
    view = await views.person_view(conn, person_id)
    return PersonPublic.of(view.person, view.enrollments, today())


@persons.put(
    "/persons/{person_id}/contact",
    status_code=202,
    responses={
        200: {"model": ContactChangePublic, "description": "The mobile is the person's already"},
        **problem_responses(404, 422),
    },
)
async def change_contact(
    person_id: str,
    body: ContactUpdate,
    caller: Annotated[Caller, allowed("enrollment:change-contact")],
    uow: UnitOfWorkDep,
    settings: Settings,
    response: Response,
) -> ContactChangePublic:
    """Request a new mobile (202): a one-time code goes to the new mobile, and nothing else
    does, until it is confirmed at ``POST /persons/{person_id}/contact/confirmation``; nothing
    changes before then. The current mobile again answers 200 and requests nothing."""
    authorize(caller, "enrollment:change-contact", Target(person_id=person_id))
    view = await handlers.handle_change_contact(
        uow, ChangeContact(person_id, body.mobile), settings
    )
    if view.change is None:
        response.status_code = 200
        return ContactChangePublic(
            person_id=person_id,
            mobile_masked=mask_mobile(view.person.mobile or ""),
            status="unchanged",
            expires_at=None,
        )
    return ContactChangePublic(
        person_id=person_id,
        mobile_masked=mask_mobile(view.change.mobile),
        status="confirmation_required",
        expires_at=view.change.expires_at,
    )


@persons.post(
    "/persons/{person_id}/contact/confirmation", responses=problem_responses(404, 409, 422)
)
async def confirm_contact(
    person_id: str,
    body: ContactConfirmation,
    caller: Annotated[Caller, allowed("enrollment:confirm-contact")],
    uow: UnitOfWorkDep,
    settings: Settings,
) -> PersonPublic:
    """Confirm the requested mobile with its code → ContactChanged (and the contact to
    notification, which tells the previous number). A wrong code answers 422 with
    ``attempts_left``; an expired code, or the fifth wrong one, ends the request (409)."""
    authorize(caller, "enrollment:confirm-contact", Target(person_id=person_id))
    view = await handlers.handle_confirm_contact(
        uow, ConfirmContact(person_id, body.code), settings
    )
    return PersonPublic.of(view.person, view.enrollments, today())


@employers.post(
    "/persons/{person_id}/enrollments",
    status_code=201,
    tags=["persons"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def enroll(
    person_id: str,
    body: EnrollmentCreate,
    uow: UnitOfWorkDep,
    settings: Settings,
    api_key: OptionalEmployerKey,
    caller: Annotated[
        Caller | None, key_or_token("enrollment:enroll-resident", "enrollment:enroll-employee")
    ],
) -> EnrollmentPublic:
    """Enroll as a resident (390) or an employee (310) → EnrollmentRegistered. An employee
    enrollment names its employer and needs that employer's X-API-Key or token; a resident
    enrollment needs the person's token or an agency's of the pooling region."""
    if body.employer_id is not None:
        await authorize_employer_caller(
            uow.conn, body.employer_id, api_key, caller, "enrollment:enroll-employee"
        )
    elif caller is None:
        raise Unauthorized("a bearer token is required")
    command = domain.enrollment_command(
        person_id=person_id,
        insutype=body.insutype,
        pooling_region=body.pooling_region,
        employer_id=body.employer_id,
        contribution_base_fen=body.contribution_base_fen,
        start_date=body.start_date or today(),
    )
    if isinstance(command, EnrollEmployee):
        enrollment = await handlers.handle_enroll_employee(uow, command, settings)
    else:
        assert caller is not None  # a resident enrollment needs a token (above)
        authorize(
            caller,
            "enrollment:enroll-resident",
            Target(person_id=person_id, regions=[command.pooling_region]),
        )
        enrollment = await handlers.handle_enroll_resident(uow, command, settings)
    return EnrollmentPublic.of(enrollment, today())


@persons.get("/persons/{person_id}/certificate", responses=problem_responses(404))
async def get_certificate(person_id: ReadablePerson, conn: Connection) -> CertificatePublic:
    """参保证明: enrollments with their status today and the months paid."""
    found = await views.certificate(conn, person_id)
    identity = PersonPublic.of(found.person, [], found.issued_at.date()).model_dump(
        include={
            "person_id",
            "name",
            "sex",
            "birth_date",
            "id_number_masked",
            "birth_certificate_no_masked",
        }
    )
    return CertificatePublic(
        **identity,
        contribution_months=found.contribution_months,
        issued_at=found.issued_at,
        enrollments=[
            CertificateEnrollment.from_attributes(
                line.enrollment,
                insutype_name=INSUTYPE_NAMES[line.enrollment.insutype],
                employer_name=line.employer_name,
                status=line.status,
                contribution_months=line.contribution_months,
            )
            for line in found.lines
        ],
    )


@employers.post("/employers", status_code=201, responses=problem_responses(401, 422))
async def create_employer(
    body: EmployerCreate, _: Admin, uow: UnitOfWorkDep, settings: Settings
) -> EmployerCreated:
    """Register an employer (needs X-Admin-Token or an admin's token); answers its API key,
    once."""
    api_key = new_api_key()
    employer = await staff.handle_register_employer(
        uow, RegisterEmployer(body.name, body.region_code, api_key_hash(api_key)), settings
    )
    return EmployerCreated.from_attributes(employer, api_key=api_key)


@employers.post(
    "/employers/{employer_id}/staff/batch-add", responses=problem_responses(401, 403, 409, 422)
)
async def add_staff(
    employer_id: ChangesStaff, body: StaffBatchAdd, uow: UnitOfWorkDep, settings: Settings
) -> StaffBatchResult:
    """增员, all or nothing → per person: PersonRegistered (when new), StaffAdded,
    EnrollmentRegistered (310, pooled in the employer's region)."""
    changes = await staff.handle_add_staff(
        uow,
        AddStaff(
            employer_id,
            tuple(from_body(NewStaff, i) for i in body.items),
        ),
        settings,
    )
    return _batch_result(employer_id, "added", changes)


@employers.post(
    "/employers/{employer_id}/staff/batch-remove", responses=problem_responses(401, 403, 422)
)
async def remove_staff(
    employer_id: ChangesStaff, body: StaffBatchRemove, uow: UnitOfWorkDep, settings: Settings
) -> StaffBatchResult:
    """减员, all or nothing; someone not on this employer's active staff refuses the batch
    (403) → per person: StaffRemoved, EnrollmentTerminated (left_employer)."""
    leavers = tuple(
        Leaver(
            i.person_id or handlers.person_id_of(i.id_number or "", settings), i.end_date or today()
        )
        for i in body.items
    )
    changes = await staff.handle_remove_staff(uow, RemoveStaff(employer_id, leavers), settings)
    return _batch_result(employer_id, "removed", changes)


def _batch_result(employer_id: str, action: str, changes: list[StaffChange]) -> StaffBatchResult:
    return StaffBatchResult(
        employer_id=employer_id,
        action=action,
        count=len(changes),
        items=[StaffChangePublic.model_validate(c) for c in changes],
    )


@institution_registration.post(
    "/institutions",
    status_code=201,
    responses={
        200: {"model": InstitutionPublic, "description": "Registered already with this data"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def register_institution(
    body: InstitutionCreate, _: InstitutionsAdmin, uow: UnitOfWorkDep, response: Response
) -> InstitutionPublic:
    """Register a designated institution (needs X-Admin-Token or an admin's token) →
    InstitutionRegistered on chs.registry.institutions; reimbursement and chronic resolve its
    code once they have read it. The same institution again answers 200 and records nothing;
    other data under a registered code (the data file's too) is 409."""
    registered, created = await registry.handle_register_institution(
        uow, from_body(RegisterInstitution, body)
    )
    response.headers["Location"] = f"/institutions/{registered.code}"
    if not created:
        response.status_code = 200
    return InstitutionPublic.model_validate(registered)


@institution_registration.put(
    "/institutions/{code}", responses=problem_responses(401, 403, 404, 409, 422)
)
async def change_institution(
    code: str, body: InstitutionUpdate, _: InstitutionsChangeAdmin, uow: UnitOfWorkDep
) -> InstitutionPublic:
    """Change a registered institution's name or level (needs X-Admin-Token or an admin's
    token) → InstitutionChanged on chs.registry.institutions, the institution as it now is; the
    same name and level again record nothing. The data file's institutions are 409 (they
    change in the data file)."""
    changed, _changed = await registry.handle_change_institution(
        uow, from_body(ChangeInstitution, body, code=code)
    )
    return InstitutionPublic.model_validate(changed)


@institutions.get("/institutions")
async def list_institutions(
    _: Annotated[Caller, allowed("enrollment:read-institutions")], conn: Connection
) -> list[InstitutionPublic]:
    """Every designated institution, by code: the data file's and the registered ones."""
    return [InstitutionPublic.model_validate(i) for i in await registry.list_institutions(conn)]


@institutions.get("/institutions/{code}", responses=problem_responses(404))
async def get_institution(
    code: str, _: Annotated[Caller, allowed("enrollment:read-institutions")], conn: Connection
) -> InstitutionPublic:
    found_institution = found(
        await registry.get_institution(conn, code), NotFound(f"no designated institution {code}")
    )
    return InstitutionPublic.model_validate(found_institution)


@benefits.post("/newborns", status_code=201, responses=problem_responses(409, 422))
async def enroll_newborn(
    body: NewbornCreate,
    caller: Annotated[Caller, allowed("enrollment:enroll-newborn")],
    uow: UnitOfWorkDep,
    settings: Settings,
    response: Response,
) -> PersonPublic:
    """出生即参保 → PersonRegistered (no mobile), EnrollmentRegistered (390 from the birth
    date), NewbornEnrolled (notices go to the guardian). By the guardian or an institution."""
    authorize(caller, "enrollment:enroll-newborn", Target(person_id=body.guardian_person_id))
    view = await handlers.handle_enroll_newborn(
        uow,
        from_body(EnrollNewborn, body),
        settings,
    )
    response.headers["Location"] = f"/persons/{view.person.person_id}"
    return PersonPublic.of(view.person, view.enrollments, today())


@benefits.post(
    "/contributions",
    status_code=201,
    response_model=ContributionPublic,
    responses={
        200: {"model": ContributionPublic, "description": "Already recorded (same payment_id)"},
        **problem_responses(409, 422),
    },
)
async def record_contribution(
    body: ContributionCreate,
    _: Annotated[Caller, allowed("enrollment:record-contribution")],
    uow: UnitOfWorkDep,
    settings: Settings,
) -> Response:
    """Record a paid contribution → ContributionPaid; the same payment_id again answers the
    recorded payment (200) and records nothing."""
    personal = body.amount_fen - body.employer_part_fen
    payment, created = await handlers.handle_record_contribution(
        uow,
        from_body(
            RecordContribution,
            body,
            personal_part_fen=personal
            if body.personal_part_fen is None
            else body.personal_part_fen,
            paid_at=body.paid_at or now(),
        ),
        settings,
    )
    # The body serialized once, by the model's own serializer (the response model above is the
    # document's): FastAPI would validate the returned model again and encode it a second time.
    return Response(
        ContributionPublic.model_validate(payment).model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


def create_app(settings: EnrollmentSettings) -> FastAPI:
    return create_service_app(
        settings,
        "chs_enrollment",
        title=TITLE,
        description=DESCRIPTION,
        routers=[persons, benefits, institutions],
        routers_with_own_authentication=[employers, institution_registration],
    )
