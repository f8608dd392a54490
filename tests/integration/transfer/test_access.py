"""Who may call each route of the transfer API (``chs_events.policy``), as a table
(``tests.support.access``): for every route, no token → 401; a kind of caller its action does not
permit (or an agency without ``transfer:confirm`` for a step) → 403; a permitted kind on
another's resource (another person, an agency of neither region, the in-region's agency
confirming out, the out-region's completing) → 403; a permitted kind on its own → neither. A
refused caller changes nothing."""

import uuid
from datetime import date
from typing import Any

import pytest

from chs_events.read_models import enrollments
from chs_events.service import route_actions
from chs_transfer.api import create_app
from chs_transfer.settings import TransferSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import client_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("transfer", TransferSettings, create_app)

QINGDAO, JINAN, SUZHOU, JIANGSU, BEIJING = "370200", "370100", "320500", "320000", "110000"
PERSON, OTHER = ("p" + uuid.uuid4().hex for _ in range(2))
TRANSFER: dict[str, str] = {}  # the id of the person's transfer, once requested
ROUTES = sorted(route_actions(create_app(TransferSettings())))


def agency(region: str) -> dict[str, Any]:
    """Agency staff of ``region`` with every business scope."""
    return {"kind": "agency", "region": region}


THE_PERSON = {"kind": "person", "person_id": PERSON}
ANOTHER_PERSON = {"kind": "person", "person_id": OTHER}
REJECTION = {"by": "in_region", "reason_code": "no_employer_in_region"}


def row(
    url: str, own: tuple[dict[str, Any], ...], others: tuple[dict[str, Any], ...], **request: Any
) -> Access:
    """The route asked about the person's transfer (``{transfer_id}`` in the url) by the callers
    whose resource it is and by callers of a permitted kind whose it is not."""
    ask = Ask({}, url.format(transfer_id=TRANSFER["id"]), **request)
    return Access([ask.by(caller) for caller in own], [ask.by(caller) for caller in others])


@pytest.fixture
def access() -> dict[tuple[str, str], Access]:
    return {
        ("POST", "/transfers"): row(
            "/transfers",
            json={"person_id": PERSON, "to_region": JINAN},
            own=(THE_PERSON, agency(QINGDAO), agency("370000")),
            others=(ANOTHER_PERSON, agency(JINAN), agency(SUZHOU)),
        ),
        ("GET", "/transfers/{transfer_id}"): row(
            "/transfers/{transfer_id}",
            own=(THE_PERSON, agency(QINGDAO), agency(SUZHOU), agency(JIANGSU)),
            others=(ANOTHER_PERSON, agency(JINAN)),
        ),
        ("GET", "/persons/{person_id}/transfers"): row(
            f"/persons/{PERSON}/transfers",
            own=(THE_PERSON, agency(QINGDAO), agency(SUZHOU)),
            others=(ANOTHER_PERSON, agency(JINAN)),
        ),
        ("POST", "/transfers/{transfer_id}/out-confirmation"): row(
            "/transfers/{transfer_id}/out-confirmation",
            json={},
            own=(agency(QINGDAO),),
            others=(agency(SUZHOU), agency(JIANGSU), agency(JINAN)),
        ),
        ("POST", "/transfers/{transfer_id}/completion"): row(
            "/transfers/{transfer_id}/completion",
            json={},
            own=(agency(SUZHOU), agency(JIANGSU)),
            others=(agency(QINGDAO), agency("370000"), agency(JINAN)),
        ),
        ("POST", "/transfers/{transfer_id}/rejection"): row(
            "/transfers/{transfer_id}/rejection",
            json=REJECTION,
            own=(agency(SUZHOU), agency(QINGDAO)),
            others=(agency(JINAN), agency(BEIJING)),
        ),
    }


@pytest.fixture(scope="module", autouse=True)
async def transfer(app) -> None:
    """The person's employee enrollment pools in Qingdao (the other person's in Jinan), and a
    transfer of it to Suzhou is requested (across provinces: it waits for the out-region)."""
    async with app.state.pool.acquire() as conn:
        for person_id, region in ((PERSON, QINGDAO), (OTHER, JINAN)):
            await enrollments.insert_enrollment(
                conn,
                enrollments.Enrollment(
                    f"en-{person_id[-8:]}", person_id, "310", region, date(2025, 1, 1)
                ),
            )
    async with client_of(app, "transfer") as client:
        response = await client.post(
            "/transfers",
            json={"person_id": PERSON, "to_region": SUZHOU},
            headers=bearer("transfer", **THE_PERSON),
        )
    assert response.status_code == 201, response.text
    TRANSFER["id"] = response.json()["transfer_id"]


test_every_route_declares_an_action, test_access = access_tests(
    "transfer", ROUTES, others_status=(403,), outbox=True
)
