"""The local Keycloak issues every kind of caller an RFC 9068 access token: a JWT signed RS256,
for the platform's services (`aud`), carrying the caller's claims from the realm file; a service
verifies them against the realm's published keys."""

from __future__ import annotations

import importlib
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from chs_reimbursement.api import create_app as create_reimbursement_app
from chs_reimbursement.settings import ReimbursementSettings
from tests.support.keycloak import (
    AUDIENCE,
    CLIENTS,
    token_for,
    unverified_claims,
    unverified_header,
)
from tests.support.people import enrolled_resident, new_person_id
from tests.support.service import running, throwaway_database

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


# --- a service accepts the running Keycloak's tokens, through its JWKS endpoint -------------------


@pytest.fixture(scope="module")
async def reimbursement_on_keycloak(
    keycloak_issuer: str, database_url: str, kafka_bootstrap: str
) -> AsyncIterator[FastAPI]:
    """The reimbursement API verifying tokens against the running Keycloak's keys."""
    async with throwaway_database(database_url, "reimbursement_keycloak") as name:
        settings = ReimbursementSettings(
            database_url=database_url,
            database_name=name,
            kafka_bootstrap=kafka_bootstrap,
            token_issuer=keycloak_issuer,
            jwks_file=None,
            jwks_url=None,
        )
        async with running(create_reimbursement_app(settings)) as app:
            yield app


async def test_a_hospital_settles_a_bill_with_a_token_of_the_running_keycloak(
    keycloak_issuer: str, reimbursement_on_keycloak: FastAPI
) -> None:
    app = reimbursement_on_keycloak
    person_id = new_person_id()
    await enrolled_resident(app, person_id)
    hospital = token_for(keycloak_issuer, "his-qingdao-university-hospital")
    bill = {
        "person_id": person_id,
        "institution_code": "H37020200017",
        "institution_name": "青岛大学附属医院",
        "institution_level": 3,
        "institution_region": "370202",
        "visit_type": "inpatient",
        "admission_date": "2026-11-10",
        "discharge_date": "2026-11-18",
        "diagnoses": ["C34.9"],
        "eligible_fen": 8_000_000,
        "ineligible_fen": 500_000,
        "invoice_no": f"KC{secrets.token_hex(6)}",
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reimbursement"
    ) as client:
        settled = await client.post(
            "/settlements", json=bill, headers={"Authorization": f"Bearer {hospital}"}
        )
        refused = await client.post("/settlements", json=bill)
        forged = await client.post(
            "/settlements", json=bill, headers={"Authorization": f"Bearer {hospital[:-4]}AAAA"}
        )
    assert settled.status_code == 201, settled.text
    assert settled.json()["split"]["pooled_fund_fen"] > 0
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert forged.status_code == 401
