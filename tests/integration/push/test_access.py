"""Who may reach what in the push API, route by route (``chs_events.policy``): no token is a
401; a caller of another kind, or an agency without ``push:publish``, is a 403; an operator of
Jinan asking for Qingdao's segment gets the policy's 403; Qingdao's operator gets through."""

import pytest

from chs_events.service import route_actions
from chs_push.api import create_app
from chs_push.settings import PushSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures

pytestmark = pytest.mark.integration

SERVICE = "push"
QINGDAO = {"kind": "agency", "region": "370200", "scope": "push:publish"}
JINAN = {"kind": "agency", "region": "370100", "scope": "push:publish"}

settings, app, client, db = service_fixtures(SERVICE, PushSettings, create_app)


@pytest.fixture
def access() -> dict[tuple[str, str], Access]:
    preview = Ask({}, "/segments/preview", json={"region_prefix": "3702", "conditions": ["t2dm"]})
    return {("POST", "/segments/preview"): Access([preview.by(QINGDAO)], [preview.by(JINAN)])}


ACTIONS = route_actions(create_app(PushSettings()))
test_every_route_declares_an_action, test_access = access_tests(
    SERVICE, sorted(ACTIONS), without_scope="fraud:review", outbox=True
)
