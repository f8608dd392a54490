"""RFC 9457 problem details for every 4xx/5xx answer of a service's HTTP API."""

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chs_events.db import CONNECTION_LOST
from chs_events.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    Rejected,
    Throttled,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
UNAVAILABLE_DETAIL = "The service cannot reach what it needs right now; try again shortly."


class FieldError(BaseModel):
    field: str = Field(description="The field at fault; items.<index>.<field> in a batch")
    reason: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem body (media type application/problem+json); extension members such
    as ``errors`` or ``rule`` say more."""

    model_config = {"extra": "allow"}
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status answers a problem body."""
    return {
        status: {"model": ProblemDetails, "description": "Problem (RFC 9457)"}
        for status in statuses
    }


def problem_media_type(document: dict[str, Any]) -> dict[str, Any]:
    """Problem answers are application/problem+json (FastAPI writes application/json)."""
    for path in document["paths"].values():
        for operation in path.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return document


class Problem(Exception):
    """An HTTP-level refusal (authentication, permission) answered as a problem body; domain
    code raises ``chs_events.errors`` instead, mapped below."""

    status = 400
    title = "Bad request"
    kind = "bad-request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class Unauthorized(Problem):
    """No credentials, or ones that do not verify; ``challenge`` (answered in
    ``WWW-Authenticate``) says which the caller should present."""

    status, title, kind = 401, "Unauthorized", "unauthorized"

    def __init__(
        self, detail: str, *, challenge: str = 'Bearer realm="chs"', **extensions: Any
    ) -> None:
        super().__init__(detail, **extensions)
        self.challenge = challenge


class Forbidden(Problem):
    status, title, kind = 403, "Forbidden", "forbidden"


class ServiceUnavailable(Problem):
    """The service's database is down, out of connections or past a timeout: try again."""

    status, title, kind = 503, "Service unavailable", "service-unavailable"
    retry_after_seconds = 5


# Each kind of domain error as a problem: (status, title, type). The most specific kind wins.
DOMAIN_PROBLEMS: dict[type[DomainError], tuple[int, str, str]] = {
    NotFound: (404, "Not found", "not-found"),
    Conflict: (409, "Conflict", "conflict"),
    NotPermitted: (403, "Forbidden", "forbidden"),
    Throttled: (429, "Too many requests", "too-many-requests"),
    Rejected: (422, "Unprocessable request", "unprocessable"),
}


def domain_problem(error: DomainError) -> tuple[int, str, str]:
    for kind in type(error).__mro__:
        if kind in DOMAIN_PROBLEMS:
            return DOMAIN_PROBLEMS[kind]
    return 400, "Bad request", "bad-request"


def problem_response(
    request: Request,
    status: int,
    title: str,
    kind: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, error: Problem) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": error.challenge}
            if isinstance(error, Unauthorized)
            else {"Retry-After": str(error.retry_after_seconds)}
            if isinstance(error, ServiceUnavailable)
            else None
        )
        return problem_response(
            request,
            error.status,
            error.title,
            error.kind,
            error.detail,
            headers=headers,
            **error.extensions,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        status, title, kind = domain_problem(error)
        return problem_response(request, status, title, kind, error.detail, **error.extensions)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, error: InvalidInput) -> JSONResponse:
        return problem_response(
            request,
            422,
            "Invalid input",
            "invalid-input",
            str(error),
            errors=[{"field": error.field, "reason": error.reason}],
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": e["msg"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['reason']}" for e in errors)
        return problem_response(
            request, 422, "Invalid request", "invalid-request", detail, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request,
            error.status_code,
            str(error.detail),
            f"http-{error.status_code}",
            str(error.detail),
        )

    async def _unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("unavailable: %s", type(error).__name__, extra={"path": request.url.path})
        return await _problem(request, ServiceUnavailable(UNAVAILABLE_DETAIL))

    for outage in (*CONNECTION_LOST, asyncpg.QueryCanceledError, asyncpg.LockNotAvailableError):
        app.add_exception_handler(outage, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            request,
            500,
            "Internal error",
            "internal-error",
            "The request could not be completed; it has been logged.",
        )
