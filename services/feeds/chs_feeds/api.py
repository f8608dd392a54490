"""HTTP API of the feeds service (external records in): thin routers over the handlers.

Who calls what: the agencies' exchange systems (民政 civil affairs, 公安 police, 卫健 health for
deaths; 公安交警 the traffic police and the insurers for accident cases), as agency callers with
the scope ``feeds:upload``:
- ``POST /deaths``, ``POST /accidents`` — one record, JSON;
- ``POST /deaths/batches``, ``POST /accidents/batches`` — a batch, CSV (``text/csv``, a header
  line naming the columns) or JSON Lines (``application/x-ndjson``), read as it streams in
  (``batches``); the answer is the per-line report;
- ``GET /batches/{id}`` — the report again, for the caller that uploaded it (another caller's
  batch is 404, as is one that does not exist).

Who may (``chs_events.policy``): ``feeds:upload``, an agency with the scope, for records of the
regions it serves (a record of another region: 403 alone, a rejected line in a batch);
``feeds:read-batch``, an agency with the scope, its own batches only (the uploader is the token's
subject).
"""

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request, Response

from chs_events import policy
from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.errors import Rejected
from chs_events.policy import Target, allowed
from chs_events.problems import Problem, problem_responses
from chs_events.service import Connection, RequestId, UnitOfWorkDep, create_service_app
from chs_feeds import domain, repository
from chs_feeds.batches import (
    ACCIDENT_CASES,
    DEATH_RECORDS,
    Feed,
    NoRecords,
    TooLarge,
    Upload,
    connection,
)
from chs_feeds.model import ACCEPTED, REJECTED, Batch
from chs_feeds.parsing import MEDIA_TYPES, UnknownFormat, UnsupportedMediaType, format_of
from chs_feeds.schemas import AccidentCreate, BatchPublic, DeathCreate, LinePublic, RecordPublic
from chs_feeds.settings import FeedsSettings

TITLE = "CHS feeds (外部数据接入: death records, traffic-accident cases)"
DESCRIPTION = """External records in: deaths (生存认证) reported by civil affairs, the police and
health, and traffic-accident cases (医保警) reported by the traffic police and insurers, one at a
time or in batches (CSV or JSON Lines, streamed). Each row is checked (the ID number and its check
digit, dates from 1900 to today, the source, the region; an accident's case id and liable party);
a batch answers a per-line report (accepted, duplicate, rejected with the reason; ID numbers
masked) and publishes its good rows even when others are bad. A record is published once, however
often and by whichever source it comes: `chs.feeds.deaths` (DeathRecorded; another date of death
for someone already recorded dead is DeathCorrected) and `chs.feeds.accidents`
(AccidentCaseRecorded), keyed by `person_id`, the HMAC of the ID number computed here. The raw ID
number is neither stored nor published. Errors are RFC 9457 problem bodies."""

UPLOAD, READ_BATCH = "feeds:upload", "feeds:read-batch"
Uploading = Annotated[Caller, allowed(UPLOAD)]
Reading = Annotated[Caller, allowed(READ_BATCH)]


class ContentTooLarge(Problem):
    status, title, kind = 413, "Content too large", "too-large"


class UnsupportedFormat(Problem):
    status, title, kind = 415, "Unsupported media type", "unsupported-media-type"


class NotABatch(Problem):
    status, title, kind = 422, "Unknown format", "unknown-format"


def _settings(request: Request) -> FeedsSettings:
    settings: FeedsSettings = request.app.state.settings
    return settings


def _secret(settings: FeedsSettings) -> bytes:
    return settings.person_id_secret.get_secret_value().encode()


def _serves(caller: Caller) -> Callable[[str], bool]:
    """Whether the caller may upload a record of a region (``feeds:upload`` in its region)."""
    return lambda code: policy.may(caller, UPLOAD, Target(regions=(code,)))


feeds = APIRouter(tags=["feeds"])

# --- one record -------------------------------------------------------------------------------


async def _record_one(
    feed: Feed,
    body: DeathCreate | AccidentCreate,
    uow: UnitOfWorkDep,
    caller: Caller,
    request: Request,
    response: Response,
) -> RecordPublic:
    settings = _settings(request)
    report = feed.report(body.model_dump(), today=today(), secret=_secret(settings))
    policy.authorize(caller, UPLOAD, Target(regions=(report.region_code,)))
    [outcome] = await feed.record(uow, (report,), (), None)
    if outcome.outcome == REJECTED:  # against what is recorded (a case's other date)
        raise Rejected(outcome.reason or "rejected")
    response.status_code = 201 if outcome.outcome == ACCEPTED else 200
    return RecordPublic.model_validate(outcome)


RECORD_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "A duplicate: known already, nothing published"}
}


@feeds.post(
    "/deaths",
    status_code=201,
    responses={**RECORD_ANSWERS, **problem_responses(403, 422)},
)
async def record_death(
    body: DeathCreate, uow: UnitOfWorkDep, caller: Uploading, request: Request, response: Response
) -> RecordPublic:
    """One death record → DeathRecorded (201), DeathCorrected for another date of death of
    someone recorded dead (201, the reason says so), or nothing for a known one (200,
    duplicate). 422 with the reason for a row rule; 403 outside the caller's regions."""
    return await _record_one(DEATH_RECORDS, body, uow, caller, request, response)


@feeds.post(
    "/accidents",
    status_code=201,
    responses={**RECORD_ANSWERS, **problem_responses(403, 422)},
)
async def record_accident(
    body: AccidentCreate,
    uow: UnitOfWorkDep,
    caller: Uploading,
    request: Request,
    response: Response,
) -> RecordPublic:
    """One traffic-accident case of an injured person → AccidentCaseRecorded (201), nothing
    for a known one (200, duplicate); the same case of the person with another accident date is
    422."""
    return await _record_one(ACCIDENT_CASES, body, uow, caller, request, response)


# --- batches ----------------------------------------------------------------------------------

_CSV_EXAMPLES = {
    DEATH_RECORDS.kind: "id_number,date_of_death,source,region_code\n"
    "37078319520312451X,2026-03-14,civil_affairs,370783\n",
    ACCIDENT_CASES.kind: "id_number,case_id,accident_date,source,liable_party,region_code\n"
    "370783198811234521,SG-JJ-2026-000381,2026-02-27,traffic_police,鲁G·8K2Q7,370783\n",
}


def _batch_body(feed: Feed) -> dict[str, Any]:
    """The OpenAPI request body of a batch: its media types, with an example."""
    csv_example = _CSV_EXAMPLES[feed.kind]
    columns, first = csv_example.splitlines()
    jsonl = dict(zip(columns.split(","), first.split(","), strict=True))
    jsonl_example = json.dumps(jsonl, ensure_ascii=False) + "\n"
    content: dict[str, Any] = {
        media_type: {
            "schema": {"type": "string", "format": "binary"},
            "example": csv_example if fmt == "csv" else jsonl_example,
        }
        for media_type, fmt in MEDIA_TYPES.items()
    }
    return {
        "requestBody": {
            "required": True,
            "description": f"CSV with a header naming at least {', '.join(feed.fields)}, or "
            "JSON Lines with those members; UTF-8. Other columns and members are ignored.",
            "content": content,
        }
    }


async def _upload(
    feed: Feed, request: Request, caller: Caller, request_id: str, response: Response
) -> BatchPublic:
    """The body read, checked and committed as it streams in (``batches.Upload``); the
    batch's report, at its own location."""
    settings = _settings(request)
    try:
        format = format_of(request.headers.get("content-type"))
    except UnsupportedMediaType as error:
        accepted = ", ".join(MEDIA_TYPES)
        raise UnsupportedFormat(f"{error}: send one of {accepted}") from None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.batch_max_bytes:
        raise ContentTooLarge(f"{declared} bytes, over the bound of {settings.batch_max_bytes}")
    upload = Upload(
        request.app.state.pool,
        settings,
        feed,
        format,
        uploaded_by=caller.subject,
        serves=_serves(caller),
        today=today(),
        correlation_id=request_id,
    )
    try:
        batch = await upload.run(request.stream())
    except (UnknownFormat, NoRecords) as error:
        raise NotABatch(str(error)) from None
    except TooLarge as error:
        if error.batch is None:
            raise ContentTooLarge(error.reason) from None
        raise ContentTooLarge(
            f"{error.reason}; the lines before are kept in batch {error.batch.batch_id}: "
            "send the rest in another batch (lines sent again are duplicates)",
            batch_id=error.batch.batch_id,
        ) from None
    response.headers["Location"] = f"/batches/{batch.batch_id}"
    async with connection(request.app.state.pool) as conn:
        return await _public(conn, batch)


async def _public(conn: Any, batch: Batch) -> BatchPublic:
    lines = await repository.lines_of(conn, batch.batch_id)
    return BatchPublic.from_attributes(
        batch, report=[LinePublic.model_validate(line) for line in lines]
    )


BATCH_ANSWERS = problem_responses(403, 413, 415, 422)


@feeds.post(
    "/deaths/batches",
    status_code=201,
    responses=BATCH_ANSWERS,
    openapi_extra=_batch_body(DEATH_RECORDS),
)
async def upload_deaths(
    request: Request, caller: Uploading, request_id: RequestId, response: Response
) -> BatchPublic:
    """A batch of death records → the per-line report (kept: `GET /batches/{id}`); the
    accepted lines are published. 415 for another Content-Type, 422 for a CSV header without
    the columns or a body without records, 413 over the bounds (with `batch_id` when the
    lines before were kept)."""
    return await _upload(DEATH_RECORDS, request, caller, request_id, response)


@feeds.post(
    "/accidents/batches",
    status_code=201,
    responses=BATCH_ANSWERS,
    openapi_extra=_batch_body(ACCIDENT_CASES),
)
async def upload_accidents(
    request: Request, caller: Uploading, request_id: RequestId, response: Response
) -> BatchPublic:
    """A batch of traffic-accident cases → the per-line report, as for deaths."""
    return await _upload(ACCIDENT_CASES, request, caller, request_id, response)


@feeds.get("/batches/{batch_id}", responses=problem_responses(403, 404))
async def get_batch(batch_id: str, conn: Connection, caller: Reading) -> BatchPublic:
    """A batch and its per-line report, for the caller that uploaded it."""
    batch = await repository.get_batch(conn, batch_id)
    if batch is None or batch.uploaded_by != caller.subject:
        raise domain.BatchNotFound(f"no batch {batch_id}")
    return await _public(conn, batch)


def create_app(settings: FeedsSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_feeds", title=TITLE, description=DESCRIPTION, routers=[feeds]
    )
