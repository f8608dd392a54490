"""What every service's HTTP API shares: lifespan (database, broker probe), health, metrics,
problem bodies (domain errors mapped once, in ``chs_events.problems``), the dependencies (a pooled
connection, the request id, a unit of work), ``found`` for a route's get-or-404 and ``from_body``
for a command made of a request body's fields; ``followers``, the background readers of a topic
an API keeps in memory (the institutions registry), started and stopped with it."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
import uuid6
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import make_asgi_app
from pydantic import BaseModel

from chs_events.auth import authenticated, verifier_for
from chs_events.db import POOL_ACQUIRE_TIMEOUT_SECONDS, open_service_database
from chs_events.errors import NotFound
from chs_events.kafka import BrokerProbe
from chs_events.policy import Allowed, openapi_callers
from chs_events.problems import (
    MEDIA_TYPE,
    ServiceUnavailable,
    install_problem_handlers,
    problem_media_type,
)
from chs_events.settings import PlatformSettings
from chs_events.unit_of_work import UnitOfWork


async def _connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await request.app.state.pool.acquire(timeout=POOL_ACQUIRE_TIMEOUT_SECONDS)
    except TimeoutError:
        raise ServiceUnavailable("Every database connection is busy; try again shortly.") from None
    try:
        yield conn
    finally:
        await request.app.state.pool.release(conn)


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a thread
# hand-off per request for a line of work.
async def _request_id(
    x_request_id: Annotated[
        str | None,
        Header(
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Correlation id of the events this request records",
        ),
    ] = None,
) -> str:
    return x_request_id or str(uuid6.uuid7())


Connection = Annotated[asyncpg.Connection, Depends(_connection)]
RequestId = Annotated[str, Depends(_request_id)]


async def _unit_of_work(request: Request, conn: Connection, request_id: RequestId) -> UnitOfWork:
    return UnitOfWork(conn, source=request.app.state.settings.ce_source, correlation_id=request_id)


# A unit of work on a pooled connection, not yet begun: the handler enters it.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(_unit_of_work)]


T = TypeVar("T")


def found(value: T | None, missing: NotFound) -> T:
    """``value`` when there is one; else ``missing`` is raised (answered 404)."""
    if value is None:
        raise missing
    return value


def from_body(kind: type[T], body: BaseModel, **given: Any) -> T:
    """The dataclass ``kind`` (a command) with the request body's fields of the same names, and
    the ``given`` ones (from the path, computed, converted)."""
    names = [f.name for f in dataclasses.fields(kind) if f.name not in given]  # type: ignore[arg-type]
    values = {name: getattr(body, name) for name in names if name in type(body).model_fields}
    return kind(**values, **given)


class Follower(Protocol):
    """A background task of the API (``chs_events.institutions.InstitutionFollower``): started
    in the lifespan, ``ready()`` is one of the checks of ``/readyz`` (under ``name``)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self) -> bool: ...


def _health_router(checks: dict[str, Callable[[], Awaitable[bool]]]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Ready: the database and the broker answer (and the followers have caught up)",
    )
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(checks[name]() for name in names))
        status = {name: "ok" if ok else "failing" for name, ok in zip(names, results, strict=True)}
        if all(results):
            return JSONResponse({"status": "ready", "checks": status})
        failing = [name for name, ok in status.items() if ok != "ok"]
        return JSONResponse(
            {
                "type": "/problems/not-ready",
                "title": "Not ready",
                "status": 503,
                "detail": f"not answering: {', '.join(failing)}",
                "checks": status,
            },
            status_code=503,
            media_type=MEDIA_TYPE,
        )

    return router


def create_service_app(
    settings: PlatformSettings,
    service_package: str,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    routers_with_own_authentication: Sequence[APIRouter] = (),
    followers: Sequence[Follower] = (),
) -> FastAPI:
    """A FastAPI app whose lifespan opens (and migrates) the service's database. Every route of
    ``routers`` needs a bearer token (``chs_events.auth``); the routes of
    ``routers_with_own_authentication`` declare what they accept themselves (an employer's API
    key, or a token). The ``followers`` run while the app does; ``/readyz`` waits for each."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.pool = await open_service_database(
            settings.database_url, settings.database_name, service_package
        )
        app.state.broker = BrokerProbe(settings.kafka_bootstrap, f"{settings.service_name}-api")
        app.state.verifier = verifier_for(settings)
        app.state.followers = followers
        for follower in followers:
            await follower.start()
        try:
            yield
        finally:
            for follower in followers:
                await follower.stop()
            await app.state.broker.close()
            await app.state.pool.close()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(app)

    async def database_answers() -> bool:
        try:
            async with app.state.pool.acquire(timeout=2) as conn:
                return await conn.fetchval("select true", timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False

    async def broker_answers() -> bool:
        return await app.state.broker.answers()

    checks: dict[str, Callable[[], Awaitable[bool]]] = {
        "database": database_answers,
        "broker": broker_answers,
    }
    checks.update({follower.name: follower.ready for follower in followers})
    app.include_router(_health_router(checks))
    for router in routers:
        app.include_router(router, dependencies=[Depends(authenticated)])
    for router in routers_with_own_authentication:
        app.include_router(router)
    app.mount("/metrics", make_asgi_app())
    app.openapi = lambda: app.openapi_schema or _document(app)  # type: ignore[method-assign]
    return app


def _document(app: FastAPI) -> dict:
    document = problem_media_type(FastAPI.openapi(app))
    openapi_callers(document, _route_callers(app))
    app.openapi_schema = document
    return document


def route_actions(app: FastAPI) -> dict[tuple[str, str], str]:
    """The policy action each route declares (``Allowed``), by method and path."""
    actions: dict[tuple[str, str], str] = {}
    for route in api_routes(app.routes):
        action = _declared_action(route.dependant)
        if action is not None:
            actions.update({(method, route.path): action for method in route.methods or ()})
    return actions


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route, those of the included routers too (``app.routes`` lists a router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from api_routes(included.routes)


def _route_callers(app: FastAPI) -> dict[tuple[str, str], tuple[str, ...]]:
    """Every action each route may be taken for, by method and path."""
    declared: dict[tuple[str, str], tuple[str, ...]] = {}
    for route in api_routes(app.routes):
        allowed = _declared(route.dependant)
        if allowed is not None:
            methods = route.methods or ()
            declared.update({(method, route.path): allowed.actions for method in methods})
    return declared


def _declared(dependant: Dependant) -> Allowed | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Allowed):
            return dependency.call
        if (found := _declared(dependency)) is not None:
            return found
    return None


def _declared_action(dependant: Dependant) -> str | None:
    allowed = _declared(dependant)
    return None if allowed is None else allowed.action
