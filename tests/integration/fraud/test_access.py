"""Who may reach what in the fraud API, route by route (``chs_events.policy``): no token is a
401; a caller of another kind, or an agency without ``fraud:review``, is a 403; an auditor of
another region gets a 403 or 404 for a signal of Qingdao, and its own list does not show it; an
auditor of Qingdao gets through (neither 401 nor 403)."""

from datetime import date, timedelta

import httpx
import pytest

from chs_events.envelope import Envelope
from chs_events.service import route_actions
from chs_events.unit_of_work import UnitOfWork
from chs_fraud import handlers, rules
from chs_fraud.api import create_app
from chs_fraud.commands import OpenCase
from chs_fraud.rules.state import Benefits, Records
from chs_fraud.settings import FraudSettings
from tests.support.access import Access, Ask, access_tests
from tests.support.service import service_fixtures
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.integration

SERVICE = "fraud"
QINGDAO = {"kind": "agency", "region": "370200", "scope": "fraud:review"}
JINAN = {"kind": "agency", "region": "370100", "scope": "fraud:review"}
DAY = date(2026, 3, 10)

settings, app, client, db = service_fixtures(SERVICE, FraudSettings, create_app)


@pytest.fixture
async def signal_id(db) -> str:
    """An open case of Qingdao (a debit after the death)."""
    person = ev.new_person()
    step = rules.apply(ev.death(person, DAY), "e1", Records(), Benefits(), rules.Rules())
    assert step.records is not None
    debit = ev.envelope(ev.debit(person, DAY + timedelta(days=1)))
    [signal] = rules.apply(debit.event, debit.id, step.records, Benefits(), rules.Rules()).signals
    await handlers.handle_open_case(
        UnitOfWork(db, source="/chs/fraud"),
        OpenCase(signal, Envelope(signal, source="/chs/fraud", id=signal.signal_id).id),
    )
    return signal.signal_id


def listed(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {s["signal_id"] for s in answer.json()["signals"]}


@pytest.fixture
def access(signal_id: str) -> dict[tuple[str, str], Access]:
    one = f"/signals/{signal_id}"
    resolution = Ask({}, f"{one}/resolution", json={"outcome": "dismissed", "reason": "测试"})
    worklist = Ask({}, "/signals", params={"limit": 500})

    def shown(answer: httpx.Response) -> None:
        assert signal_id in listed(answer)

    def not_shown(answer: httpx.Response) -> None:
        assert signal_id not in listed(answer)

    return {
        ("GET", "/signals"): Access(
            [worklist.by(QINGDAO)], [worklist.by(JINAN)], own_seen=shown, others_seen=not_shown
        ),
        ("GET", "/signals/{signal_id}"): Access([Ask(QINGDAO, one)], [Ask(JINAN, one)]),
        ("POST", "/signals/{signal_id}/resolution"): Access(
            [resolution.by(QINGDAO)], [resolution.by(JINAN)]
        ),
    }


ACTIONS = route_actions(create_app(FraudSettings()))
test_every_route_declares_an_action, test_access = access_tests(
    SERVICE, sorted(ACTIONS), without_scope="chronic:review", outbox=True
)
