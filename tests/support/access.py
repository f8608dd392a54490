"""Who may call each route of a service (chs_events.policy), as one table-driven test.

A service's ``test_access.py`` gives the table, route by route: which callers each call on
their own resource and which (of a permitted kind) on someone else's (an ``Access`` per route,
from a fixture named ``access``). The harness adds what the policy says by itself: for every
route, no token → 401 with a challenge (Bearer); a caller of every kind the action does not
permit, and a permitted kind without the agency scope a permit asks for → 403; the others →
403 or 404; the own → neither 401 nor 403. A refusal is the policy's, the same for every
target (it says nothing of the resource); with ``outbox=True`` a refused caller changes nothing.

    test_every_route_declares_an_action, test_access = access_tests("accounts", ROUTES)

It also checks first that each route of the app declares its policy action, so no route can
slip past the table.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chs_events.policy import Kind, Permit, permits_of
from chs_events.service import api_routes, route_actions
from tests.support.service import without_token
from tests.support.tokens import bearer

UNGUARDED = frozenset({("GET", "/healthz"), ("GET", "/readyz")})
REFUSAL = "this caller may not do this"  # the policy's 403, whatever the target

Route = tuple[str, str]  # (method, path) as the app declares it


def guarded_routes(app: FastAPI) -> set[Route]:
    """(method, path) of every route of the app but health, the included routers' too."""
    routes = {
        (method, route.path) for route in api_routes(app.routes) for method in route.methods or ()
    }
    return routes - UNGUARDED


def assert_every_route_declares_an_action(app: FastAPI) -> dict[Route, str]:
    """The app's actions by route, once it is checked that there are routes, that each one
    declares an action and that each action is in the policy."""
    routes, actions = guarded_routes(app), route_actions(app)
    assert routes, "no routes found: the routers were not walked"
    assert routes - set(actions) == set(), "routes without an action"
    for action in actions.values():
        assert permits_of(action)
    paths = app.openapi()["paths"]
    for method, path in routes:
        stated = paths[path][method.lower()].get("x-callers", [])
        needed = [permit.describe() for permit in permits_of(actions[(method, path)])]
        assert needed and set(needed) <= set(stated), f"{method} {path}: OpenAPI x-callers {stated}"
    return actions


@dataclass(frozen=True)
class Ask:
    """One request of a route: the caller as ``bearer`` options (``kind`` and the claims that
    differ from the kind's ``DEFAULT_CLAIMS``), the url, the body (``json``) or the query
    (``params``), and more ``headers`` if the route wants them."""

    caller: Mapping[str, Any]
    url: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def by(self, caller: Mapping[str, Any]) -> "Ask":
        """The same request by another caller."""
        return replace(self, caller=caller)


@dataclass(frozen=True)
class Access:
    """A route's row: ``own``, callers of the permitted kinds each on its own resource (the
    first one's request is also what the 401 and the refused kinds are asked); ``others``,
    callers of a permitted kind on someone else's. ``own_seen`` / ``others_seen`` check more of
    such an answer (``others_seen`` instead of the refusal: a list that does not show it);
    ``challenge``, the scheme a 401 asks for (a route of its own authentication: ``ApiKey``)."""

    own: Sequence[Ask]
    others: Sequence[Ask] = ()
    own_seen: Callable[[httpx.Response], None] | None = None
    others_seen: Callable[[httpx.Response], None] | None = None
    challenge: str = "Bearer"

    @property
    def request(self) -> Ask:
        return self.own[0]


def refused_by_kind(row: Access, permits: Sequence[Permit], without_scope: str) -> list[Ask]:
    """A caller of every kind the permits do not name (the kind's default claims), and for a
    permit that asks for a scope, its kind with ``without_scope`` instead: with the default
    claims, and as each own caller of that kind."""
    permitted = {permit.kind for permit in permits}
    refused = [row.request.by({"kind": kind.value}) for kind in Kind if kind not in permitted]
    for permit in permits:
        if permit.scope:
            kind = permit.kind.value
            asks = [row.request.by({"kind": kind})]
            asks += [ask for ask in row.own if ask.caller["kind"] == kind]
            for ask in asks:
                scopeless = ask.by({**ask.caller, "scope": without_scope})
                if scopeless not in refused:
                    refused.append(scopeless)
    return refused


async def send(client: httpx.AsyncClient, service: str, method: str, ask: Ask) -> httpx.Response:
    headers = {**bearer(service, **ask.caller), **ask.headers}
    return await client.request(method, ask.url, json=ask.json, params=ask.params, headers=headers)


class Refusals:
    """The refusals of one test: each the policy's, and all of them alike but for the url."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def add(self, ask: Ask, answer: httpx.Response) -> None:
        assert answer.status_code == 403, (ask, answer.status_code, answer.text)
        body = answer.json()
        assert body["detail"] == REFUSAL, (ask, answer.text)
        self.bodies.append({name: value for name, value in body.items() if name != "instance"})
        assert all(other == self.bodies[0] for other in self.bodies), self.bodies


CHECKS = ("no token", "refused kinds", "others", "own")


def access_tests(
    service: str,
    routes: Sequence[Route],
    *,
    without_scope: str = "",
    others_status: Collection[int] = (403, 404),
    own_status: Collection[int] | None = None,
    outbox: bool = False,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The service's two access tests: that every route declares an action and has a row, and
    the table's checks, route by route (parametrized by route and check). ``service`` is the
    tokens' audience; ``without_scope`` the scope of a permitted kind refused for the lack of
    the one its permit asks for; ``others_status`` what someone else's resource may answer;
    ``own_status`` what an own call must answer, beyond neither 401 nor 403; ``outbox``: the
    service's outbox must not grow with a refused call."""

    def test_every_route_declares_an_action(app: FastAPI, access: Mapping[Route, Access]) -> None:
        assert set(assert_every_route_declares_an_action(app)) == set(routes) == set(access)

    @pytest.mark.parametrize(
        ("route", "check"),
        [(route, check) for route in routes for check in CHECKS],
        ids=[f"{method} {path} {check}" for method, path in routes for check in CHECKS],
    )
    async def test_access(
        app: FastAPI,
        client: httpx.AsyncClient,
        db: Any,
        access: Mapping[Route, Access],
        route: Route,
        check: str,
    ) -> None:
        method = route[0]
        row = access[route]
        permits = permits_of(route_actions(app)[route])
        before = await db.fetchval("select count(*) from outbox") if outbox else None
        refusals = Refusals()
        if check == "no token":
            request = row.request
            answer = await without_token(
                client,
                method,
                request.url,
                json=request.json,
                params=request.params,
                headers=request.headers,
            )
            assert answer.status_code == 401, answer.text
            assert answer.headers["WWW-Authenticate"].startswith(row.challenge), answer.headers
        elif check == "refused kinds":
            for ask in refused_by_kind(row, permits, without_scope):
                refusals.add(ask, await send(client, service, method, ask))
        elif check == "others":
            for ask in row.others:
                answer = await send(client, service, method, ask)
                if row.others_seen is not None:
                    row.others_seen(answer)
                elif answer.status_code == 403:
                    refusals.add(ask, answer)
                else:
                    assert answer.status_code in others_status, (ask, answer.text)
        else:
            assert {permit.kind.value for permit in permits} <= {
                ask.caller["kind"] for ask in row.own
            }, "a permitted kind has no own call"
            for ask in row.own:
                answer = await send(client, service, method, ask)
                assert answer.status_code not in (401, 403), (ask, answer.text)
                if own_status is not None:
                    assert answer.status_code in own_status, (ask, answer.text)
                if row.own_seen is not None:
                    row.own_seen(answer)
        if before is not None and check != "own":
            assert await db.fetchval("select count(*) from outbox") == before  # nothing changed

    return test_every_route_declares_an_action, test_access


@dataclass(frozen=True)
class Ownership:
    """Callers derived from the policy, for a service whose table follows it permit by permit:
    ``own[kind]``, the claims of a caller of that kind whose the targets are; ``others[own]``,
    the claims that make a permitted caller someone else (another person, region, …)."""

    own: Mapping[Kind, Mapping[str, Any]] = field(default_factory=dict)
    others: Mapping[Any, Mapping[str, Any]] = field(default_factory=dict)

    def row(self, permits: Sequence[Permit], request: Ask, **seen: Any) -> Access:
        """Per permit: its kind on its own targets, and (where the permit asks that the target
        be the caller's own) the same kind on someone else's."""
        own, others = [], []
        for permit in permits:
            claims = {"kind": permit.kind.value, **self.own.get(permit.kind, {})}
            own.append(request.by(claims))
            if permit.own is not None:
                others.append(request.by({**claims, **self.others[permit.own]}))
        return Access(own, others, **seen)
