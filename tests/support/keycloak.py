"""Access tokens from the local Keycloak: deploy/local/keycloak.sh, realm
deploy/keycloak/chs-realm.json.

Every kind of caller has one confidential client in the realm `chs`; a token comes from the
client-credentials grant. The secrets are the DEVELOPMENT values of the realm file, good for the
local stack and tests only.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

# The APIs every token is meant for (its `aud`).
AUDIENCE = (
    "chs-enrollment",
    "chs-remote-care",
    "chs-chronic",
    "chs-transfer",
    "chs-accounts",
    "chs-maternity",
    "chs-reimbursement",
    "chs-feeds",
    "chs-fraud",
    "chs-push",
    "chs-notification",
)


@dataclass(frozen=True)
class Client:
    """A client of the realm: its credentials, the claims its tokens carry, and its scopes."""

    client_id: str
    secret: str
    claims: dict[str, str | int]
    scopes: tuple[str, ...] = field(default=())


def _client(client_id: str, claims: dict[str, str | int], scopes: tuple[str, ...] = ()) -> Client:
    return Client(client_id, f"dev-secret-{client_id}", claims, scopes)


CLIENTS: dict[str, Client] = {
    c.client_id: c
    for c in (
        _client(
            "his-qingdao-university-hospital",
            {
                "caller_kind": "institution",
                "institution_code": "H37020200017",
                "institution_level": 3,
                "region": "370202",
            },
        ),
        _client(
            "pharmacy-qingdao-demo", {"caller_kind": "merchant", "merchant_code": "M370202000001"}
        ),
        _client("employer-hr-demo", {"caller_kind": "employer", "employer_id": "E0000000001"}),
        _client("tax-collection", {"caller_kind": "collector", "collector": "370000-tax"}),
        _client(
            "agency-qingdao",
            {"caller_kind": "agency", "region": "370200"},
            (
                "transfer:confirm",
                "chronic:review",
                "maternity:approve",
                "claims:pay",
                "assistance:write",
                "fraud:review",
                "push:publish",
            ),
        ),
        _client(
            "his-shouguang-peoples-hospital",
            {
                "caller_kind": "institution",
                "institution_code": "H37078300001",
                "institution_level": 2,
                "region": "370783",
            },
        ),
        _client(
            "his-qingdao-women-children-hospital",
            {
                "caller_kind": "institution",
                "institution_code": "H37020000001",
                "institution_level": 3,
                "region": "370202",
            },
        ),
        _client(
            "agency-shandong",
            {"caller_kind": "agency", "region": "370000"},
            (
                "transfer:confirm",
                "chronic:review",
                "maternity:approve",
                "claims:pay",
                "assistance:write",
                "fraud:review",
                "feeds:upload",
                "push:publish",
            ),
        ),
        _client(
            "agency-jiangsu", {"caller_kind": "agency", "region": "320000"}, ("transfer:confirm",)
        ),
        _client(
            "public-app-demo",
            {"caller_kind": "person", "person_id": "p3f2a9c41d7e8b6a5c0f1e2d3c4b5a697"},
        ),
        _client("admin-console", {"caller_kind": "admin"}),
    )
}


def token_endpoint(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/protocol/openid-connect/token"


def client_credentials_token(issuer: str, client_id: str, secret: str) -> str:
    """A fresh access token (a signed JWT) for the client, by the client-credentials grant."""
    response = httpx.post(
        token_endpoint(issuer),
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10.0,
        trust_env=False,
    )
    response.raise_for_status()
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def token_for(issuer: str, client_id: str) -> str:
    """A token for one of the realm's CLIENTS, by its id."""
    return client_credentials_token(issuer, client_id, CLIENTS[client_id].secret)


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(decoded, dict)
    return decoded


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of a JWT, NOT verified."""
    return _segment(token, 0)


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, NOT verified: for tests that look at what the issuer put in."""
    return _segment(token, 1)
