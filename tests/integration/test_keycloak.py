"""The local Keycloak issues every kind of caller an RFC 9068 access token: a JWT signed RS256,
for the platform's services (`aud`), carrying the caller's claims from the realm file."""

from __future__ import annotations

import importlib
import time

import httpx
import pytest

from tests.support.keycloak import (
    AUDIENCE,
    CLIENTS,
    token_for,
    unverified_claims,
    unverified_header,
)

pytestmark = pytest.mark.integration


def _verified_claims(token: str, issuer: str) -> dict | None:
    """The claims verified against the realm's JWKS when PyJWT (with cryptography) is installed;
    None when it is not (the unverified checks still run)."""
    try:
        jwt = importlib.import_module("jwt")
        importlib.import_module("cryptography")
    except ImportError:
        return None
    jwks_uri = httpx.get(
        f"{issuer}/.well-known/openid-configuration", timeout=10.0, trust_env=False
    ).json()["jwks_uri"]
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=AUDIENCE[0], issuer=issuer)


def test_discovery_names_the_issuer_and_rs256(keycloak_issuer: str):
    discovery = httpx.get(
        f"{keycloak_issuer}/.well-known/openid-configuration", timeout=10.0, trust_env=False
    ).json()
    assert discovery["issuer"] == keycloak_issuer
    assert "client_credentials" in discovery["grant_types_supported"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]


@pytest.mark.parametrize("client_id", sorted(CLIENTS))
def test_client_credentials_token_carries_the_callers_claims(keycloak_issuer: str, client_id: str):
    client = CLIENTS[client_id]
    token = token_for(keycloak_issuer, client_id)

    header = unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["typ"] == "at+jwt"
    assert header["kid"]

    claims = unverified_claims(token)
    assert claims["iss"] == keycloak_issuer
    assert sorted(claims["aud"]) == sorted(AUDIENCE)
    assert claims["client_id"] == claims["azp"] == client_id
    assert claims["sub"]
    now = time.time()
    assert claims["iat"] <= now + 5
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["exp"] > now
    for name, value in client.claims.items():
        assert claims[name] == value, name
    assert set(claims.get("scope", "").split()) == set(client.scopes)

    verified = _verified_claims(token, keycloak_issuer)
    if verified is not None:
        assert verified == claims


def test_a_wrong_secret_gets_no_token(keycloak_issuer: str):
    response = httpx.post(
        f"{keycloak_issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("agency-qingdao", "not-the-secret"),
        timeout=10.0,
        trust_env=False,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"
