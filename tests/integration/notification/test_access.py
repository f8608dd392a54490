"""Who reaches what in the notification API, route by route (chs_events.policy): no token is
401, a kind of caller the route's action does not permit is 403, a person on another's
messages or push preference is 403 (agency staff may not set or read one: 403), and each
permitted kind reaches its own; a refused call records no event."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chs_events.db import connect
from chs_events.policy import Kind
from chs_notification import repository
from chs_notification.api import create_app
from chs_notification.commands import RequestNotice
from chs_notification.settings import NotificationSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures

pytestmark = pytest.mark.integration

OWNER = "p" + uuid.uuid4().hex
STRANGER = "p" + uuid.uuid4().hex

settings, app, client, db = service_fixtures("notification", NotificationSettings, create_app)


def call(kind: str, url: str, claims: dict[str, Any] | None = None) -> Ask:
    return Ask({"kind": kind, **(claims or {})}, url)


ROUTES = [
    ("GET", "/persons/{person_id}/messages"),
    ("GET", "/messages/{message_id}"),
    ("GET", "/stats/delivery"),
    ("GET", "/templates"),
    ("GET", "/persons/{person_id}/push-preference"),
    ("PUT", "/persons/{person_id}/push-preference"),
]


@pytest.fixture(scope="module")
async def message_id(app, settings) -> AsyncIterator[uuid.UUID]:
    """A queued message of OWNER."""
    conn = await connect(settings.database_dsn)
    message = uuid.uuid4()
    notice = RequestNotice(
        notice_id=f"access-{message}",
        person_id=OWNER,
        template_id="enrollment.registered",
        category="business_result",
        priority="normal",
        params={"name": "张三"},
    )
    await repository.insert_message(
        conn,
        notice,
        message_id=message,
        request_event_id=str(uuid.uuid4()),
        correlation_id=None,
    )
    await conn.close()
    yield message


@pytest.fixture
def access(message_id) -> dict[tuple[str, str], Access]:
    owner = {"person_id": OWNER}
    stranger = {"person_id": STRANGER}
    return {
        ("GET", "/persons/{person_id}/messages"): Access(
            own=[
                call("person", f"/persons/{OWNER}/messages", owner),
                call("admin", f"/persons/{OWNER}/messages"),
            ],
            others=[call("person", f"/persons/{OWNER}/messages", stranger)],
        ),
        ("GET", "/messages/{message_id}"): Access(
            own=[
                call("person", f"/messages/{message_id}", owner),
                call("admin", f"/messages/{message_id}"),
            ],
            others=[
                call("person", f"/messages/{message_id}", stranger),
                call("person", f"/messages/{uuid.uuid4()}", owner),  # none: the same 403
            ],
        ),
        ("GET", "/stats/delivery"): Access(
            own=[call("agency", "/stats/delivery"), call("admin", "/stats/delivery")]
        ),
        ("GET", "/templates"): Access(own=[call(kind.value, "/templates") for kind in Kind]),
        ("GET", "/persons/{person_id}/push-preference"): Access(
            own=[
                call("person", f"/persons/{OWNER}/push-preference", owner),
                call("admin", f"/persons/{OWNER}/push-preference"),
            ],
            others=[call("person", f"/persons/{OWNER}/push-preference", stranger)],
        ),
        ("PUT", "/persons/{person_id}/push-preference"): Access(
            own=[
                Ask(
                    {"kind": "person", **owner},
                    f"/persons/{OWNER}/push-preference",
                    json={"opted_out": True},
                )
            ],
            others=[
                Ask(
                    {"kind": "person", **stranger},
                    f"/persons/{OWNER}/push-preference",
                    json={"opted_out": True},
                )
            ],
        ),
    }


test_every_route_declares_an_action, test_access = access_tests(
    "notification", ROUTES, others_status=(403,), own_status=(200,), outbox=True
)
