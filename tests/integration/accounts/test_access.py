"""Who may call each route of the accounts API (``chs_events.policy``), as a table
(``tests.support.access``): for every route, no token → 401; a kind of caller its action does not
permit → 403; a permitted kind on another's resource (another merchant's code, another person's
account, an agency of another region) → 403; a permitted kind on its own → neither. A refused
caller changes nothing."""

import uuid
from datetime import date
from typing import Any

import pytest

from chs_accounts import handlers
from chs_accounts.api import create_app
from chs_accounts.commands import OpenAccount
from chs_accounts.settings import AccountsSettings
from chs_events.service import route_actions
from chs_events.unit_of_work import UnitOfWork
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("accounts", AccountsSettings, create_app)

QINGDAO, JINAN = "370200", "370100"
HOLDER, OTHER, MEMBER = ("p" + uuid.uuid4().hex for _ in range(3))
WINDOW = "P370200001"

HOLDER_HIMSELF = {"kind": "person", "person_id": HOLDER}
ANOTHER_PERSON = {"kind": "person", "person_id": OTHER}
ROUTES = sorted(route_actions(create_app(AccountsSettings())))


def debit(merchant_code: str = WINDOW) -> dict[str, Any]:
    return {
        "merchant_code": merchant_code,
        "merchant_kind": "pharmacy",
        "amount_fen": 100,
        "spender_person_id": HOLDER,
    }


def row(
    url: str, own: tuple[dict[str, Any], ...], others: tuple[dict[str, Any], ...], **request: Any
) -> Access:
    """The route asked about the holder's account by the callers whose resource it is and by
    callers of a permitted kind whose it is not (a fresh idempotency key for each test)."""
    headers = {"Idempotency-Key": f"K-{uuid.uuid4().hex}"}
    ask = Ask({}, url, headers=headers, **request)
    return Access([ask.by(caller) for caller in own], [ask.by(caller) for caller in others])


@pytest.fixture
def access() -> dict[tuple[str, str], Access]:
    return {
        ("GET", "/accounts/{person_id}"): row(
            f"/accounts/{HOLDER}",
            own=(HOLDER_HIMSELF, {"kind": "agency", "region": QINGDAO}, {"kind": "agency"}),
            others=(ANOTHER_PERSON, {"kind": "agency", "region": JINAN}),
        ),
        ("POST", "/accounts/{person_id}/debits"): row(
            f"/accounts/{HOLDER}/debits",
            json=debit(),
            own=({"kind": "merchant", "merchant_code": WINDOW},),
            # the body names WINDOW; the default merchant (M370202000001) and WINDOW naming another
            others=({"kind": "merchant"}, {"kind": "merchant", "merchant_code": "P370100002"}),
        ),
        ("POST", "/accounts/{person_id}/family"): row(
            f"/accounts/{HOLDER}/family",
            json={"member_person_id": MEMBER, "relation": "child"},
            own=(HOLDER_HIMSELF,),
            others=(ANOTHER_PERSON, {"kind": "person", "person_id": MEMBER}),
        ),
        ("DELETE", "/accounts/{person_id}/family/{member_person_id}"): row(
            f"/accounts/{HOLDER}/family/{MEMBER}",
            own=(HOLDER_HIMSELF,),
            others=(ANOTHER_PERSON, {"kind": "person", "person_id": MEMBER}),
        ),
    }


@pytest.fixture(scope="module", autouse=True)
async def accounts(app) -> None:
    """The holder's account pools in Qingdao, the other person's in Jinan."""
    async with app.state.pool.acquire() as conn:
        for person_id, region in ((HOLDER, QINGDAO), (OTHER, JINAN)):
            uow = UnitOfWork(conn, source=app.state.settings.ce_source)
            await handlers.handle_open(
                uow, OpenAccount(person_id, f"en-{person_id[-8:]}", region, date(2026, 1, 1))
            )


test_every_route_declares_an_action, test_access = access_tests(
    "accounts", ROUTES, others_status=(403,), outbox=True
)
