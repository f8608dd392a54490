"""Every API of the Procfile fuzzed from its own OpenAPI document (schemathesis): a test per
operation (health checks aside), each sent by a caller the operation permits (its
``x-chs-action`` in the document, chs_events.policy), whose claims name what the request names
as the caller's own (the person, institution, merchant or employer). No answer may be a server
error (5xx); every answer's content type, and every 2xx answer's body, is the document's.

Per operation: the document's examples, schemathesis's coverage phase (each field at and past
its bounds, missing, of the wrong type, without the token …) and MAX_EXAMPLES generated
requests, valid and invalid: 109 to 258 requests an operation, about 8 400 in all, about 3.5
minutes on the 2-core machine with the platform's start. Generation is derandomized: the same
requests every run.

The running platform of tests/e2e/conftest.py (every process a real subprocess on the real
broker and database server) is what is fuzzed.
"""

import importlib
import zlib
from collections.abc import Mapping
from typing import Any, get_args, get_type_hints

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from chs_events.institutions import seeded_institutions
from chs_events.policy import Kind, Own, permits_of
from chs_feeds.parsing import MEDIA_TYPES as BATCH_MEDIA_TYPES
from tests.e2e.conftest import procfile_processes
from tests.support.platform import Platform
from tests.support.tokens import ALL_SCOPES, bearer

MAX_EXAMPLES = 100
APIS = [service for _, _, command, service in procfile_processes() if command == "api"]
UNGUARDED = ["/healthz", "/readyz"]


def successful_response_conformance(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """A 2xx answer's body is what the document says. (A 422's is not: the document keeps
    FastAPI's ``HTTPValidationError`` where the API answers ``application/problem+json``.)"""
    if response.status_code >= 400:
        return None
    return response_schema_conformance(ctx, response, case)


CHECKS = [not_a_server_error, content_type_conformance, successful_response_conformance]


def _raw_text(ctx: Any, value: Any) -> bytes:
    """A batch upload's body (a string the document types as binary) as it is sent."""
    return value if isinstance(value, bytes) else str(value).encode()


for _media_type in BATCH_MEDIA_TYPES:  # the feeds' CSV and JSON Lines uploads
    schemathesis.serializer(_media_type)(_raw_text)


def served_document(service: str) -> dict[str, Any]:
    """The OpenAPI document the service's API serves at ``/openapi.json`` (its app's, built
    here so that pytest can name a test per operation before the platform runs;
    ``test_the_fuzzed_documents_are_the_served_ones`` checks it against the running API)."""
    api = importlib.import_module(f"chs_{service}.api")
    hint = get_type_hints(api.create_app)["settings"]
    settings_class = next(kind for kind in get_args(hint) or (hint,) if kind is not type(None))
    document: dict[str, Any] = api.create_app(settings_class()).openapi()
    return document


DOCUMENTS = {service: served_document(service) for service in APIS}
REGISTERED = sorted(institution.code for institution in seeded_institutions())


def _named(case: Case, name: str) -> Any:
    """What the request names ``name``: its path, query or body field."""
    for part in (case.path_parameters, case.query, case.body):
        if isinstance(part, Mapping) and isinstance(part.get(name), str):
            return part[name]
    return None


def _choice(case: Case) -> int:
    """A number of the request's data: the same request (a replay, a shrink) the same number."""
    return zlib.crc32(repr((case.path_parameters, case.query, case.headers, case.body)).encode())


def with_known_institution(case: Case) -> None:
    """Half the bodies that name an institution name one of the registry's, without the
    deprecated name, level and region (a generated code names none, and the request would end
    at its 422 before the rules and events behind it)."""
    body, choice = case.body, _choice(case)
    if isinstance(body, dict) and isinstance(body.get("institution_code"), str) and choice % 2:
        body["institution_code"] = REGISTERED[choice // 2 % len(REGISTERED)]
        for deprecated in ("institution_name", "institution_level", "institution_region"):
            body.pop(deprecated, None)


def caller(service: str, case: Case) -> dict[str, str]:
    """The bearer token of a caller the operation permits, one chosen by the request's data
    (every permitted kind gets requests, and a request replayed gets the same caller); a permit
    that asks for the caller's own target gets a caller whose claim is what the request names
    (a request that names none keeps the kind's default claims)."""
    permits = permits_of(case.operation.definition.raw["x-chs-action"])
    permit = permits[_choice(case) % len(permits)]
    claims: dict[str, Any] = {"kind": permit.kind.value}
    if permit.kind is Kind.AGENCY:
        claims["scope"] = ALL_SCOPES
    if permit.own is not None and permit.own is not Own.REGION:
        named = _named(case, permit.own.value)
        if named is not None:
            claims[permit.own.value] = named
    return bearer(service.replace("_", "-"), **claims)


def fuzz_test(service: str) -> Any:
    """The test of one API: a test per operation (but health), its examples, its coverage
    phase and MAX_EXAMPLES generated requests."""
    schema = schemathesis.openapi.from_dict(DOCUMENTS[service]).exclude(path=UNGUARDED)
    session = requests.Session()  # one kept-alive connection per API

    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case: Case, platform: Platform) -> None:
        with_known_institution(case)
        case.call_and_validate(
            base_url=platform.url(service),
            session=session,
            headers=caller(service, case),
            checks=CHECKS,
            timeout=10,
        )

    test.__name__ = f"test_fuzz_{service}"
    return test


for _service in APIS:
    globals()[f"test_fuzz_{_service}"] = fuzz_test(_service)


def test_the_fuzzed_documents_are_the_served_ones(platform: Platform) -> None:
    """What was fuzzed is what each running API serves at /openapi.json."""
    for service in APIS:
        served = httpx.get(f"{platform.url(service)}/openapi.json", timeout=10)
        assert served.status_code == 200, served.text
        assert served.json() == DOCUMENTS[service], service
