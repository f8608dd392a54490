"""What every service's access table test checks first: each route of the app declares its
policy action (chs_events.policy), so no route can slip past the table."""

from fastapi import FastAPI

from chs_events.policy import permits_of
from chs_events.service import api_routes, route_actions

UNGUARDED = frozenset({("GET", "/healthz"), ("GET", "/readyz")})


def guarded_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of the app but health, the included routers' too."""
    routes = {
        (method, route.path) for route in api_routes(app.routes) for method in route.methods or ()
    }
    return routes - UNGUARDED


def assert_every_route_declares_an_action(app: FastAPI) -> dict[tuple[str, str], str]:
    """The app's actions by route, once it is checked that there are routes, that each one
    declares an action and that each action is in the policy."""
    routes, actions = guarded_routes(app), route_actions(app)
    assert routes, "no routes found: the routers were not walked"
    assert routes - set(actions) == set(), "routes without an action"
    for action in actions.values():
        assert permits_of(action)
    return actions
