"""Who may call what beyond a bearer token: employers' API keys (增减员) and the admin token
(registering employers and institutions). Where a key is accepted, a bearer token of the same
caller is too: an employer's (claim ``employer_id``) or an admin's, checked against the policy
(``chs_events.policy``) with the action the route declares.

An employer's key is ``secrets.token_urlsafe(32)``, shown once; only its SHA-256 (hex) is
stored. The keys are high-entropy random strings, so a fast hash is enough.
"""

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from chs_enrollment import repository
from chs_events.auth import Caller, OptionalCallerDep
from chs_events.policy import Allowed, Target, authorize, may
from chs_events.problems import Forbidden, Unauthorized
from chs_events.service import Connection

_employer_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="EmployerKey",
    auto_error=False,
    description="The employer's API key, returned once by POST /employers",
)
_admin_token_header = APIKeyHeader(
    name="X-Admin-Token",
    scheme_name="AdminToken",
    auto_error=False,
    description="The platform's admin token (CHS_ADMIN_TOKEN)",
)


def new_api_key() -> str:
    return secrets.token_urlsafe(32)


def api_key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


async def authorize_employer(conn: Connection, employer_id: str, api_key: str | None) -> str:
    """The employer, when the key is its own: missing or unknown key 401, another employer's
    key 403 (also when no such employer exists, so ids cannot be probed)."""
    if not api_key:
        raise Unauthorized("the X-API-Key header is missing", challenge="ApiKey")
    presented = api_key_hash(api_key)
    stored = await repository.employer_key_hash(conn, employer_id)
    if stored is not None and hmac.compare_digest(stored, presented):
        return employer_id
    if await repository.employer_with_key_hash(conn, presented) is None:
        raise Unauthorized("the API key is not known", challenge="ApiKey")
    raise Forbidden("the API key does not belong to this employer")


async def authorize_employer_caller(
    conn: Connection, employer_id: str, api_key: str | None, caller: Caller | None, action: str
) -> str:
    """The employer, by its key when one is presented, else by its token (kind ``employer``,
    claim ``employer_id``: ``action`` of the policy on this employer)."""
    if api_key is not None or caller is None:
        return await authorize_employer(conn, employer_id, api_key)
    authorize(caller, action, Target(employer_id=employer_id))
    return employer_id


class KeyOrToken(Allowed):
    """The bearer token's caller, when there is one, whose kind (and scope) may take one of the
    actions (403 otherwise); ``None`` without a token, for the route to check the key it
    accepts instead. ``route_actions`` names the first action; the OpenAPI entry states the
    callers of each."""

    def __init__(self, action: str, *others: str) -> None:
        super().__init__(action)
        self.actions = (action, *others)

    async def __call__(self, caller: OptionalCallerDep) -> Caller | None:  # type: ignore[override]
        if caller is not None and not any(may(caller, action) for action in self.actions):
            authorize(caller, self.action, Target())  # refuses: no permit of its kind
        return caller


class EmployerKeyOrToken(Allowed):
    """The employer of the path, by its X-API-Key or its token (``action`` on this employer)."""

    async def __call__(  # type: ignore[override]
        self,
        employer_id: str,
        conn: Connection,
        api_key: Annotated[str | None, Depends(_employer_key_header)],
        caller: OptionalCallerDep,
    ) -> str:
        return await authorize_employer_caller(conn, employer_id, api_key, caller, self.action)


class AdminTokenOrToken(Allowed):
    """The admin, by the X-Admin-Token header or an admin's bearer token (``action``)."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        token: Annotated[str | None, Depends(_admin_token_header)],
        caller: OptionalCallerDep,
    ) -> None:
        if token is None and caller is not None:
            authorize(caller, self.action, Target())
            return
        expected = request.app.state.settings.admin_token.get_secret_value()
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Unauthorized("the X-Admin-Token header is missing or wrong", challenge="ApiKey")


def staff_employer(action: str) -> Any:
    """``employer_id: Annotated[str, staff_employer("enrollment:change-staff")]``."""
    return Depends(EmployerKeyOrToken(action))


def key_or_token(action: str, *others: str) -> Any:
    """``caller: Annotated[Caller | None, key_or_token("enrollment:enroll-resident", ...)]``."""
    return Depends(KeyOrToken(action, *others))


OptionalEmployerKey = Annotated[str | None, Depends(_employer_key_header)]
Admin = Annotated[None, Depends(AdminTokenOrToken("enrollment:register-employer"))]
InstitutionsAdmin = Annotated[None, Depends(AdminTokenOrToken("enrollment:register-institution"))]
InstitutionsChangeAdmin = Annotated[
    None, Depends(AdminTokenOrToken("enrollment:change-institution"))
]
