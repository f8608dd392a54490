"""Who may reach what in the push API, route by route (``chs_events.policy``): no token is a
401; a caller of another kind, or an agency without ``push:publish``, is a 403; an operator of
Jinan asking for Qingdao's segment, or for a campaign of Qingdao, gets the policy's 403 (and
Jinan's list does not show it); Qingdao's operator gets through."""

import httpx
import pytest

from chs_events.service import route_actions
from chs_events.unit_of_work import UnitOfWork
from chs_push import handlers
from chs_push.api import create_app
from chs_push.commands import DraftCampaign
from chs_push.rules.segments import Segment
from chs_push.settings import PushSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures

pytestmark = pytest.mark.integration

SERVICE = "push"
QINGDAO = {"kind": "agency", "region": "370200", "scope": "push:publish"}
JINAN = {"kind": "agency", "region": "370100", "scope": "push:publish"}

settings, app, client, db = service_fixtures(SERVICE, PushSettings, create_app)


@pytest.fixture
async def campaign_id(db) -> str:
    """A draft campaign of Qingdao."""
    campaign = await handlers.handle_draft(
        UnitOfWork(db, source="/chs/push"),
        DraftCampaign(
            campaign_id=handlers.new_campaign_id(),
            template_id="chronic.hypertension_policy",
            segment=Segment(region_prefix="3702", conditions=["hypertension"]),
            params={},
            purpose="测试",
            send_at=None,
            created_by="agency-qingdao",
        ),
    )
    return campaign.campaign_id


def listed(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {c["campaign_id"] for c in answer.json()["campaigns"]}


@pytest.fixture
def access(campaign_id: str) -> dict[tuple[str, str], Access]:
    preview = Ask({}, "/segments/preview", json={"region_prefix": "3702", "conditions": ["t2dm"]})
    draft = Ask(
        {},
        "/campaigns",
        json={
            "template_id": "chronic.hypertension_policy",
            "segment": {"region_prefix": "3702", "elderly": True},
            "purpose": "测试",
        },
    )
    one = f"/campaigns/{campaign_id}"
    listing = Ask({}, "/campaigns", params={"limit": 200})

    def shown(answer: httpx.Response) -> None:
        assert campaign_id in listed(answer)

    def not_shown(answer: httpx.Response) -> None:
        assert campaign_id not in listed(answer)

    def by_both(url: str) -> Access:
        return Access([Ask(QINGDAO, url)], [Ask(JINAN, url)])

    return {
        ("POST", "/segments/preview"): Access([preview.by(QINGDAO)], [preview.by(JINAN)]),
        ("POST", "/campaigns"): Access([draft.by(QINGDAO)], [draft.by(JINAN)]),
        ("GET", "/campaigns"): Access(
            [listing.by(QINGDAO)], [listing.by(JINAN)], own_seen=shown, others_seen=not_shown
        ),
        ("GET", "/campaigns/{campaign_id}"): by_both(one),
        ("POST", "/campaigns/{campaign_id}/preview"): by_both(f"{one}/preview"),
        ("POST", "/campaigns/{campaign_id}/publish"): by_both(f"{one}/publish"),
        ("POST", "/campaigns/{campaign_id}/cancel"): by_both(f"{one}/cancel"),
        ("GET", "/campaigns/{campaign_id}/progress"): by_both(f"{one}/progress"),
    }


ACTIONS = route_actions(create_app(PushSettings()))
test_every_route_declares_an_action, test_access = access_tests(
    SERVICE, sorted(ACTIONS), without_scope="fraud:review", outbox=True
)
