"""Who is calling: OAuth 2.0 bearer tokens (JWT access tokens, RFC 9068) verified by every
service against the identity provider's keys.

A token is accepted when its signature verifies with a key of the provider's JWKS (chosen by the
token's ``kid``; an unknown ``kid`` refetches the set, at most every ``refetch_seconds``, so a
rotated key is picked up), its ``iss`` is the configured issuer, its ``aud`` names this service
and ``exp`` / ``nbf`` hold within a small leeway. The JWKS comes from a URL (the provider's
``…/protocol/openid-connect/certs``) or a file. PyJWT does the JOSE work: it is the most widely
deployed Python JOSE library, small, typed, and checks the registered claims itself.

``CallerDep`` is the FastAPI dependency: no token, or one that does not verify, answers 401 with
``WWW-Authenticate: Bearer`` and a problem body that says nothing about the target.
"""

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chs_events.problems import Unauthorized
from chs_events.settings import PlatformSettings

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "ES256", "PS256"]


class InvalidToken(Exception):
    """The token cannot be trusted; the reason is logged, never answered."""


@dataclass(frozen=True)
class Caller:
    """A verified token's subject and claims. ``kind`` says which kind of caller it is
    (``institution``, ``merchant``, ``employer``, ``collector``, ``agency``, ``person``,
    ``admin``); the other claims say whose resources it may reach."""

    subject: str
    kind: str
    claims: Mapping[str, Any] = field(repr=False)
    scopes: frozenset[str] = frozenset()

    def claim(self, name: str) -> str | None:
        value = self.claims.get(name)
        return None if value is None else str(value)

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> "Caller":
        scope = claims.get("scope", "")
        return cls(
            subject=str(claims.get("sub") or claims.get("azp") or ""),
            kind=str(claims.get("caller_kind", "")),
            claims=dict(claims),
            scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
        )


class KeySet:
    """The provider's signing keys by ``kid``, from a URL or a file."""

    def __init__(
        self, *, url: str | None = None, file: Path | None = None, refetch_seconds: float = 30
    ) -> None:
        if (url is None) == (file is None):
            raise ValueError("a key set comes from a URL or a file, exactly one")
        self._url, self._file = url, file
        self._refetch_seconds = refetch_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and self._may_refetch():
                    await self._load()
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken(f"no key {kid!r} in the provider's key set") from None

    def _may_refetch(self) -> bool:
        return time.monotonic() - self._fetched_at >= self._refetch_seconds

    async def _load(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            if self._file is not None:
                document = json.loads(await asyncio.to_thread(self._file.read_text))
            else:
                assert self._url is not None
                async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
                    answer = await client.get(self._url)
                    answer.raise_for_status()
                    document = answer.json()
            key_set = jwt.PyJWKSet.from_dict(document)
        except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as error:
            log.warning("the key set could not be loaded", extra={"error": repr(error)})
            return
        self._keys = {key.key_id: key for key in key_set.keys if key.key_id}


class TokenVerifier:
    """Verifies a token once: a token that verified is kept (by its whole text, signature
    included) with its caller until it expires, so the same token again costs a dictionary look-up
    and the expiry check instead of the signature's verification. The issuer and the audience are
    this verifier's own, checked when it was verified; the scopes are the caller's, checked by the
    policy on every request. A token that did not verify is never kept."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: float = 30,
        kept_at_most: int = 10_000,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._kept_at_most = kept_at_most
        self._verified: dict[str, tuple[float, Caller]] = {}  # token → (exp + leeway, caller)

    async def verify(self, token: str) -> Caller:
        kept = self._verified.get(token)
        if kept is not None:
            if time.time() < kept[0]:  # PyJWT: expired when exp <= now - leeway
                return kept[1]
            del self._verified[token]  # expired: verified again, which refuses it
        caller = await self._verify(token)
        self._keep(token, caller)
        return caller

    def _keep(self, token: str, caller: Caller) -> None:
        expires = caller.claims.get("exp")
        if not isinstance(expires, int | float):
            return
        if len(self._verified) >= self._kept_at_most:
            now = time.time()
            self._verified = {t: k for t, k in self._verified.items() if now < k[0]}
            if len(self._verified) >= self._kept_at_most:
                self._verified.clear()
        self._verified[token] = (float(expires) + self._leeway, caller)

    async def _verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
            key = await self._keys.key(str(header.get("kid", "")))
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[str(header["alg"])],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        return Caller.of(claims)


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token (RFC 9068) of the platform's identity provider",
)


def verifier_for(settings: PlatformSettings) -> TokenVerifier:
    keys = (
        KeySet(file=settings.jwks_file)
        if settings.jwks_file
        else KeySet(url=settings.jwks_location)
    )
    return TokenVerifier(
        keys,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        leeway_seconds=settings.token_leeway_seconds,
    )


async def optional_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """The caller of a bearer token when one is presented (401 when it does not verify)."""
    if credentials is None:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(credentials.credentials)
    except InvalidToken as error:
        log.info("token refused", extra={"reason": str(error), "path": request.url.path})
        raise Unauthorized(
            "the bearer token is not valid", challenge='Bearer realm="chs", error="invalid_token"'
        ) from None


async def authenticated(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise Unauthorized("a bearer token is required")
    return caller


CallerDep = Annotated[Caller, Depends(authenticated)]
OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]
