"""Who may call each route of the feeds API (``chs_events.policy``), as a table
(``tests.support.access``): for every route, no token → 401; a kind of caller its action does
not permit, or an agency without the scope ``feeds:upload`` → 403; an agency with the scope on
a record of a region it does not serve → 403, on another caller's batch → 404; the uploading
agency on its own → neither. A refused caller changes nothing."""

from datetime import timedelta
from typing import Any

import pytest
from stdnum.cn import ric

from chs_events.clock import today
from chs_events.service import route_actions
from chs_feeds.api import create_app
from chs_feeds.settings import FeedsSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import client_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

settings, app, client, db = service_fixtures("feeds", FeedsSettings, create_app)

WEIFANG, SHOUGUANG, JINAN = "370700", "370783", "370100"
ROUTES = sorted(route_actions(create_app(FeedsSettings())))
BATCH: dict[str, str] = {}  # the id of the uploader's batch, once uploaded


def agency(region: str, sub: str) -> dict[str, Any]:
    return {"kind": "agency", "region": region, "scope": "feeds:upload", "sub": sub}


UPLOADER = agency(WEIFANG, "mz-weifang")
PROVINCE = agency("370000", "ga-shandong")
JINAN_AGENCY = agency(JINAN, "mz-jinan")
ANOTHER_UPLOADER = agency(WEIFANG, "ws-weifang")  # the same region, another system


def id_number(body: str = "37078319520312451") -> str:
    return body + ric.calc_check_digit(body + "0")


DAY = (today() - timedelta(days=3)).isoformat()
DEATH = {
    "id_number": id_number(),
    "date_of_death": DAY,
    "source": "civil_affairs",
    "region_code": SHOUGUANG,
}
ACCIDENT = {
    "id_number": id_number("37078319881123452"),
    "case_id": "SG-JJ-2026-000381",
    "accident_date": DAY,
    "source": "traffic_police",
    "liable_party": "鲁G·8K2Q7",
    "region_code": SHOUGUANG,
}
JSON_LINES = {"Content-Type": "application/x-ndjson"}


def row(
    url: str,
    own: tuple[dict[str, Any], ...],
    others: tuple[dict[str, Any], ...] = (),
    **request: Any,
) -> Access:
    ask = Ask({}, url.format(batch_id=BATCH.get("id", "")), **request)
    return Access([ask.by(caller) for caller in own], [ask.by(caller) for caller in others])


@pytest.fixture
def access() -> dict[tuple[str, str], Access]:
    return {
        ("POST", "/deaths"): row(
            "/deaths", json=DEATH, own=(UPLOADER, PROVINCE), others=(JINAN_AGENCY,)
        ),
        ("POST", "/accidents"): row(
            "/accidents", json=ACCIDENT, own=(UPLOADER, PROVINCE), others=(JINAN_AGENCY,)
        ),
        # A batch's lines of a region the caller does not serve are rejected lines, not a 403.
        ("POST", "/deaths/batches"): row(
            "/deaths/batches", json=DEATH, headers=JSON_LINES, own=(UPLOADER, PROVINCE)
        ),
        ("POST", "/accidents/batches"): row(
            "/accidents/batches", json=ACCIDENT, headers=JSON_LINES, own=(UPLOADER, PROVINCE)
        ),
        ("GET", "/batches/{batch_id}"): row(
            "/batches/{batch_id}", own=(UPLOADER,), others=(ANOTHER_UPLOADER, PROVINCE)
        ),
    }


@pytest.fixture(scope="module", autouse=True)
async def batch(app) -> None:
    """The uploader's batch of one death line."""
    async with client_of(app, "feeds") as client:
        response = await client.post(
            "/deaths/batches",
            json=DEATH,
            headers={**bearer("feeds", **UPLOADER), **JSON_LINES},
        )
    assert response.status_code == 201, response.text
    BATCH["id"] = response.json()["batch_id"]


test_every_route_declares_an_action, test_access = access_tests(
    "feeds", ROUTES, others_status=(403, 404), outbox=True
)
