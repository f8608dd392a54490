"""Access tokens for tests, signed with a key of the test run: the services verify them exactly
as they verify the identity provider's (chs_events.auth), against a JWKS file.

``export_test_issuer()`` writes the key set and sets ``CHS_JWKS_FILE`` / ``CHS_TOKEN_ISSUER`` for
the test run, so settings built in tests and processes started by tests accept these tokens.
"""

import json
import os
import tempfile
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://identity.test.chs.invalid/realms/chs"
KEY_ID = "test-key-1"

ALL_SCOPES = (
    "transfer:confirm chronic:review maternity:approve claims:pay assistance:write feeds:upload"
    " fraud:review"
)
# The claims a caller of each kind has unless a test says otherwise (chs_events.policy): a
# Qingdao hospital and pharmacy, an employer, the tax collector, a province-wide agency with
# every business scope, a person, the admin.
DEFAULT_CLAIMS: dict[str, dict[str, Any]] = {
    "institution": {"institution_code": "H37020200017", "institution_level": 3, "region": "370202"},
    "merchant": {"merchant_code": "M370202000001"},
    "employer": {"employer_id": "E0000000001"},
    "collector": {"collector": "370000-tax"},
    "agency": {"region": "370000", "scope": ALL_SCOPES},
    "person": {"person_id": "p3f2a9c41d7e8b6a5c0f1e2d3c4b5a697"},
    "admin": {},
}


@cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_set() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_private_key().public_key()))
    return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


def export_test_issuer() -> Path:
    path = Path(tempfile.gettempdir()) / f"chs-test-jwks-{os.getpid()}.json"
    path.write_text(json.dumps(key_set()))
    os.environ["CHS_JWKS_FILE"] = str(path)
    os.environ["CHS_TOKEN_ISSUER"] = ISSUER
    return path


def token(
    service: str,
    *,
    kind: str = "admin",
    lifetime: int = 600,
    issuer: str = ISSUER,
    key_id: str = KEY_ID,
    **claims: Any,
) -> str:
    """A token for ``service`` (its ``service_name``: ``aud`` is ``chs-<service>``) of a caller
    of ``kind`` with ``claims`` (over the kind's ``DEFAULT_CLAIMS``)."""
    now = int(time.time())
    payload = {
        "iss": issuer,
        "sub": f"test-{kind}",
        "aud": [f"chs-{service}"],
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        "caller_kind": kind,
        **DEFAULT_CLAIMS.get(kind, {}),
        **claims,
    }
    return jwt.encode(payload, _private_key(), algorithm="RS256", headers={"kid": key_id})


def bearer(service: str, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(service, **options)}"}


def enrollment_caller(method: str, path: str) -> dict[str, str]:
    """The token of the caller an enrollment route is meant for (chs_events.policy): the
    contribution collection system records contributions, a hospital enrolls newborns, the
    admin registers employers, an employer changes its own staff, the person reads and changes
    their own data, and an agency of the whole province (370000) registers and enrolls."""
    parts = path.strip("/").split("/")
    if parts[0] == "contributions":
        return bearer("enrollment", kind="collector")
    if parts[0] == "newborns":
        return bearer("enrollment", kind="institution")
    if parts[0] == "employers":
        if len(parts) == 1:
            return bearer("enrollment", kind="admin")
        return bearer("enrollment", kind="employer", employer_id=parts[1])
    if parts[0] == "persons" and len(parts) > 1 and (method == "GET" or "contact" in parts):
        return bearer("enrollment", kind="person", person_id=parts[1])
    return bearer("enrollment", kind="agency")


class EnrollmentCallers(httpx.AsyncClient):
    """The enrollment API as the callers its routes are meant for (``enrollment_caller``),
    unless a request names its own token; an employer's X-API-Key or the X-Admin-Token, when a
    request sends one, is used before the token."""

    def build_request(self, method: str, url: Any, **options: Any) -> httpx.Request:
        request = super().build_request(method, url, **options)
        if "authorization" not in request.headers:
            request.headers.update(enrollment_caller(request.method, request.url.path))
        return request
