"""HTTP API of the chronic-disease service (门诊慢特病): thin routers over the handlers."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response

from chs_chronic import handlers, repository
from chs_chronic.catalog import InvalidDiagnosis, load_catalog, normalize_icd10
from chs_chronic.commands import (
    DecideApplication,
    Evidence,
    RevokeCertification,
    SubmitApplication,
)
from chs_chronic.model import Application, Certification
from chs_chronic.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    CatalogPublic,
    CertificationPublic,
    ConditionPublic,
    DiagnosisMatch,
    PersonConditions,
    ReviewDecision,
    ReviewQueue,
    RevokeBody,
)
from chs_chronic.settings import ChronicSettings
from chs_events.auth import Caller
from chs_events.errors import InvalidField
from chs_events.institutions import InstitutionFollower, designated
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app, from_body

TITLE = "CHS chronic diseases (门诊慢特病)"
DESCRIPTION = """Outpatient chronic and special diseases (门诊慢特病) of the CHS platform: the
disease catalog (ICD-10 ranges, annual cap in fen, pay ratio in per-mille, validity), applications
made at the hospital on the discharge day and decided in the same request (or queued for a
reviewer), auto-certification without application (免申即享) from settlements, a person's
certified conditions, and revocation. Every result is published on `chs.chronic.events` through
the outbox. Errors are RFC 9457 problem bodies; `X-Request-Id` becomes the events' correlation
id."""


catalog_router = APIRouter(tags=["catalog"])
applications = APIRouter(tags=["applications"])
certifications = APIRouter(tags=["certifications"])

# Agency staff are served the applications and certifications of their region: the region
# stored with each (the applying or certifying institution's; this service keeps no
# enrollments, so not the person's pooling region).


def _regions(*stored: str | None) -> tuple[str, ...]:
    return tuple(region for region in stored if region)


def _of_application(application: Application) -> Target:
    return Target(
        person_id=application.person_id,
        institution_code=application.institution_code,
        regions=_regions(application.region),
    )


def _of_certification(certification: Certification) -> Target:
    return Target(person_id=certification.person_id, regions=_regions(certification.region))


@catalog_router.get("/catalog")
async def get_catalog(caller: Annotated[Caller, allowed("chronic:read-catalog")]) -> CatalogPublic:
    """The disease catalog; ``auto`` marks the categories granted without application."""
    catalog = load_catalog()
    return CatalogPublic(
        title=catalog.title,
        version=catalog.version,
        application_window_days=catalog.application_window_days,
        conditions=[ConditionPublic.model_validate(c) for c in catalog.conditions],
    )


@catalog_router.get("/catalog/match", responses=problem_responses(422))
async def match_diagnosis(
    caller: Annotated[Caller, allowed("chronic:read-catalog")],
    diagnosis: Annotated[str, Query(max_length=16, examples=["E11.9"])],
) -> DiagnosisMatch:
    """The condition an ICD-10 diagnosis falls in (none: null)."""
    try:
        code = normalize_icd10(diagnosis)
    except InvalidDiagnosis as error:
        raise InvalidField("diagnosis", str(error)) from None
    condition = load_catalog().condition_of(code)
    return DiagnosisMatch(
        diagnosis=code, condition=ConditionPublic.model_validate(condition) if condition else None
    )


@applications.post("/applications", status_code=201, responses=problem_responses(409, 422))
async def submit_application(
    caller: Annotated[Caller, allowed("chronic:apply")],
    body: ApplicationCreate,
    uow: UnitOfWorkDep,
    response: Response,
) -> ApplicationPublic:
    """Decided in this request: ``certified`` (with the certification), ``rejected`` (``rule``
    names the rule that failed) or ``pending_review``. → ChronicApplied, then ChronicCertified
    or ChronicRejected. 409 when the condition is already certified. Only by the hospital the
    application names; it is of the hospital's region."""
    authorize(caller, "chronic:apply", Target(institution_code=body.institution_code))
    view = await handlers.handle_submit(
        uow,
        from_body(
            SubmitApplication,
            body,
            diagnosis_codes=tuple(body.diagnosis_codes),
            evidence=tuple(Evidence(e.kind, e.reference) for e in body.evidence),
            region=caller.claim("region"),
            institution_name=designated(body.institution_code, name=body.institution_name).name,
        ),
        load_catalog(),
    )
    response.headers["Location"] = f"/applications/{view.application.application_id}"
    return ApplicationPublic.of(view.application, view.certification)


@applications.get("/applications/{application_id}", responses=problem_responses(404))
async def get_application(
    caller: Annotated[Caller, allowed("chronic:read-application")],
    application_id: str,
    conn: Connection,
) -> ApplicationPublic:
    application = await repository.applications.found(conn, application_id)
    authorize(caller, "chronic:read-application", _of_application(application))
    certification = (
        await repository.get_certification(conn, application.certification_id)
        if application.certification_id
        else None
    )
    return ApplicationPublic.of(application, certification)


@applications.get("/review-queue")
async def review_queue(
    caller: Annotated[Caller, allowed("chronic:review")],
    conn: Connection,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewQueue:
    """Applications of the reviewer's region waiting for a reviewer, oldest first."""
    area = caller.claim("region")
    queued = await repository.review_queue(conn, limit, area) if area else []
    return ReviewQueue(count=len(queued), applications=[ApplicationPublic.of(a) for a in queued])


@applications.post(
    "/applications/{application_id}/decision", responses=problem_responses(404, 409, 422)
)
async def decide_application(
    caller: Annotated[Caller, allowed("chronic:review")],
    application_id: str,
    body: ReviewDecision,
    uow: UnitOfWorkDep,
) -> ApplicationPublic:
    """A reviewer certifies (→ ChronicCertified) or refuses (→ ChronicRejected) a queued
    application; 409 when it is not waiting for review."""
    application = await repository.applications.found(uow.conn, application_id)
    authorize(caller, "chronic:review", _of_application(application))
    view = await handlers.handle_decide(
        uow,
        DecideApplication(
            application_id, body.decision, body.reviewer, body.condition_code, body.reason_code
        ),
        load_catalog(),
    )
    return ApplicationPublic.of(view.application, view.certification)


@certifications.get("/persons/{person_id}/conditions")
async def person_conditions(
    caller: Annotated[Caller, allowed("chronic:read-conditions")],
    person_id: str,
    conn: Connection,
) -> PersonConditions:
    """A person's certified conditions: active ones, and those that ended. Agency staff: of a
    person with a certification of their region."""
    certified = await repository.certifications_of(conn, person_id)
    regions = _regions(*(c.region for c in certified))
    authorize(caller, "chronic:read-conditions", Target(person_id=person_id, regions=regions))
    views = [CertificationPublic.model_validate(c) for c in certified]
    return PersonConditions(
        person_id=person_id,
        active=[c for c in views if c.status == "active"],
        ended=[c for c in views if c.status != "active"],
    )


@certifications.get("/certifications/{certification_id}", responses=problem_responses(404))
async def get_certification(
    caller: Annotated[Caller, allowed("chronic:read-conditions")],
    certification_id: str,
    conn: Connection,
) -> CertificationPublic:
    certification = await repository.certifications.found(conn, certification_id)
    authorize(caller, "chronic:read-conditions", _of_certification(certification))
    return CertificationPublic.model_validate(certification)


@certifications.post(
    "/certifications/{certification_id}/revoke", responses=problem_responses(404, 409, 422)
)
async def revoke_certification(
    caller: Annotated[Caller, allowed("chronic:revoke")],
    certification_id: str,
    body: RevokeBody,
    uow: UnitOfWorkDep,
) -> CertificationPublic:
    """Withdraw an active certification → ChronicRevoked (reason revoked)."""
    certification = await repository.certifications.found(uow.conn, certification_id)
    authorize(caller, "chronic:revoke", _of_certification(certification))
    revoked = await handlers.handle_revoke(
        uow, RevokeCertification(certification_id, body.reason_code)
    )
    return CertificationPublic.model_validate(revoked)


def create_app(settings: ChronicSettings) -> FastAPI:
    load_catalog()  # an invalid catalog stops the process before it serves anything
    routers = [catalog_router, applications, certifications]
    return create_service_app(
        settings,
        "chs_chronic",
        title=TITLE,
        description=DESCRIPTION,
        routers=routers,
        followers=[InstitutionFollower(settings)],  # registered institutions
    )
