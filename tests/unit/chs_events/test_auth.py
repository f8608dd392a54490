"""Bearer-token verification (chs_events.auth) against a key set file, with no network."""

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chs_enrollment.settings import EnrollmentSettings
from chs_events.auth import InvalidToken, KeySet, TokenVerifier
from chs_events.settings import DEVELOPMENT_ISSUER, PlatformSettings
from tests.support.tokens import ISSUER, KEY_ID, key_set, token

pytestmark = pytest.mark.unit


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(key_set()))
    return path


def write_key_set(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document))


def verifier(keys_file: Path, **options: float) -> TokenVerifier:
    return TokenVerifier(
        KeySet(file=keys_file, refetch_seconds=options.pop("refetch", 30)),
        issuer=ISSUER,
        audience="chs-reimbursement",
        leeway_seconds=options.pop("leeway", 30),
    )


async def test_a_valid_token_gives_its_caller_and_claims(keys_file: Path) -> None:
    caller = await verifier(keys_file).verify(
        token("reimbursement", kind="institution", institution_code="H37020200017")
    )
    assert (caller.kind, caller.claim("institution_code")) == ("institution", "H37020200017")


async def test_scopes_are_read_from_the_space_separated_claim(keys_file: Path) -> None:
    caller = await verifier(keys_file).verify(
        token("reimbursement", kind="agency", scope="claims:pay chronic:review")
    )
    assert caller.scopes == {"claims:pay", "chronic:review"}


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"lifetime": -120}, "expired"),
        ({"issuer": "https://elsewhere.invalid/realms/chs"}, "issuer"),
        ({"key_id": "unknown-key"}, "no key"),
    ],
    ids=["expired", "another issuer", "unknown key id"],
)
async def test_a_token_that_cannot_be_trusted_is_refused(
    keys_file: Path, options: dict, reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await verifier(keys_file).verify(token("reimbursement", **options))


async def test_a_token_for_another_service_is_refused(keys_file: Path) -> None:
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        await verifier(keys_file).verify(token("accounts"))


async def test_an_expiry_within_the_leeway_is_accepted(keys_file: Path) -> None:
    caller = await verifier(keys_file, leeway=30).verify(token("reimbursement", lifetime=-10))
    assert caller.kind == "admin"


async def test_a_tampered_or_unsigned_token_is_refused(keys_file: Path) -> None:
    header, payload, signature = token("reimbursement").split(".")
    forged = jwt.encode(
        {
            **jwt.decode(token("reimbursement"), options={"verify_signature": False}),
            "caller_kind": "admin",
            "person_id": "p" + "1" * 32,
        },
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": KEY_ID},
    )
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": "chs-reimbursement", "sub": "x", "exp": int(time.time()) + 60},
        key="",
        algorithm="none",
    )
    for bad in (f"{header}.{payload}x.{signature}", forged, unsigned, "not a token"):
        with pytest.raises(InvalidToken):
            await verifier(keys_file).verify(bad)


async def test_a_rotated_key_is_picked_up_by_its_kid(keys_file: Path) -> None:
    check = verifier(keys_file, refetch=0)
    await check.verify(token("reimbursement"))
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(new_key.public_key()))
    rotated = {"keys": [*key_set()["keys"], {**public, "kid": "test-key-2", "alg": "RS256"}]}
    write_key_set(keys_file, rotated)
    now = int(time.time())
    signed_by_new_key = jwt.encode(
        {
            "iss": ISSUER,
            "aud": "chs-reimbursement",
            "sub": "x",
            "exp": now + 60,
            "caller_kind": "person",
        },
        new_key,
        algorithm="RS256",
        headers={"kid": "test-key-2"},
    )
    assert (await check.verify(signed_by_new_key)).kind == "person"


def test_production_refuses_development_values() -> None:
    with pytest.raises(ValueError, match="CHS_PERSON_ID_SECRET"):
        PlatformSettings(
            env="production",
            jwks_url="https://idp.example/certs",
            token_issuer="https://idp.example/realms/chs",
        )
    with pytest.raises(ValueError, match="identity provider"):
        PlatformSettings(
            env="production",
            person_id_secret="a-real-secret-of-the-province",
            token_issuer=DEVELOPMENT_ISSUER,
            jwks_file=None,
        )
    settings = PlatformSettings(
        env="production",
        person_id_secret="a-real-secret",
        jwks_url="https://idp.example/certs",
        token_issuer="https://idp.example/realms/chs",
    )
    assert settings.development_values() == []


def test_production_refuses_the_development_admin_token() -> None:
    real: dict[str, Any] = {
        "env": "production",
        "person_id_secret": "a-real-secret",
        "jwks_url": "https://idp.example/certs",
        "token_issuer": "https://idp.example/realms/chs",
    }
    with pytest.raises(ValueError, match="CHS_ADMIN_TOKEN"):
        EnrollmentSettings(**real)
    assert EnrollmentSettings(**real, admin_token="a-real-admin-token").development_values() == []


async def test_a_verified_token_is_kept_and_not_verified_again(
    keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, presented = verifier(keys_file), token("reimbursement", kind="agency", scope="a b")
    first = await check.verify(presented)
    calls: list[str] = []
    decode = jwt.decode

    def counted(*args: Any, **options: Any) -> Any:
        calls.append("decode")
        return decode(*args, **options)

    monkeypatch.setattr(jwt, "decode", counted)
    again = await check.verify(presented)
    assert again == first and again.scopes == {"a", "b"} and calls == []


async def test_a_kept_token_is_refused_once_it_expires(
    keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, presented = verifier(keys_file, leeway=0), token("reimbursement", lifetime=60)
    await check.verify(presented)
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    def decode(*args: Any, **options: Any) -> Any:  # PyJWT's own clock is not patched
        raise jwt.ExpiredSignatureError("Signature has expired")

    monkeypatch.setattr(jwt, "decode", decode)
    with pytest.raises(InvalidToken, match="expired"):  # verified again, not the kept caller
        await check.verify(presented)


async def test_a_token_that_did_not_verify_is_not_kept(keys_file: Path) -> None:
    check = verifier(keys_file)
    for _ in range(2):
        with pytest.raises(InvalidToken, match=r"(?i)audience"):
            await check.verify(token("accounts"))
