"""Case work in-process against a real PostgreSQL server (a fresh database for this module): the
raised signals consumed from the real broker into cases (once), the auditors' list, one signal
with its evidence, and its resolution once → FraudSignalResolved in the outbox."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.fraud import FraudSignalRaised, FraudSignalResolved
from chs_events.topics import BY_NAME, FRAUD_SIGNALS, dead_letter_spec
from chs_fraud import rules
from chs_fraud.api import create_app
from chs_fraud.consumers import CASES_CONSUMER, CASES_HANDLERS, CASES_TOPICS
from chs_fraud.rules.state import Benefits, Records
from chs_fraud.settings import FraudSettings
from tests.support import broker
from tests.support.broker import until
from tests.support.service import client_of, outbox_of, service_fixtures
from tests.support.tokens import bearer
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
DAY = date(2026, 3, 10)
AUDITOR = {"kind": "agency", "region": "370200", "scope": "fraud:review"}  # Qingdao

fixtures = service_fixtures("fraud", FraudSettings, create_app)
settings, app, db = fixtures.settings, fixtures.app, fixtures.db


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, "fraud") as client:
        client.headers.update(bearer("fraud", **AUDITOR, sub="auditor-qd-07"))
        yield client


def raised(*events: Event) -> list[Envelope]:
    """The signals the rules raise from the events of one person, as the processor sends them."""
    records, benefits, found = Records(), Benefits(), []
    for event in events:
        source = ev.envelope(event)
        step = rules.apply(event, source.id, records, benefits, rules.Rules())
        records = step.records or records
        benefits = step.benefits or benefits
        found += [
            Envelope(s, source="/chs/fraud", id=s.signal_id, causation_id=source.id)
            for s in step.signals
        ]
    return found


async def consume(settings: FraudSettings, app, db, envelopes: list[Envelope], prefix: str):
    """The signals published (each twice) and consumed into cases by the real runner."""
    await ensure_topics(
        settings.kafka_bootstrap,
        prefix,
        [BY_NAME[FRAUD_SIGNALS], dead_letter_spec(BY_NAME[FRAUD_SIGNALS])],
    )
    consumer_settings = settings.model_copy(update={"topic_prefix": prefix})
    await broker.publish(settings, prefix + FRAUD_SIGNALS, *envelopes, *envelopes)
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=CASES_CONSUMER,
        topics=CASES_TOPICS,
        handlers=CASES_HANDLERS,
        pool=app.state.pool,
        settings=consumer_settings,
    )
    task = asyncio.create_task(runner.run(stop))
    ids = [e.id for e in envelopes]
    try:

        async def all_cases() -> bool:
            found = await db.fetchval(
                "select count(*) from signals where signal_id = any($1::text[])", ids
            )
            return found == len(set(ids))

        await until(all_cases)
        await asyncio.sleep(1.5)  # the second copies too
    finally:
        stop.set()
        await task


@pytest.fixture
async def cases(settings, app, db, topic_prefix) -> dict[str, FraudSignalRaised]:
    """A benefit after death (Qingdao), a third-party injury (Qingdao) and a near-duplicate bill
    at a Jinan hospital, consumed into cases."""
    dead, injured, billed = ev.new_person(), ev.new_person(), ev.new_person()
    jinan = {"institution_code": "H37010200001", "institution_region": "370102"}
    envelopes = [
        *raised(ev.death(dead, DAY), ev.debit(dead, DAY + timedelta(days=2), amount_fen=8_800)),
        *raised(
            ev.accident(injured, DAY),
            ev.settlement(
                injured,
                DAY + timedelta(days=1),
                discharge_diagnoses=["S06.0"],
                pooled_fund_fen=24_000,
            ),
        ),
        *raised(
            ev.settlement(billed, DAY, **jinan),
            ev.settlement(billed, DAY, **jinan),
        ),
    ]
    await consume(settings, app, db, envelopes, topic_prefix)
    signals = [e.event for e in envelopes if isinstance(e.event, FraudSignalRaised)]
    return {s.kind: s for s in signals}


async def test_each_signal_is_one_case_and_the_list_is_the_auditors_region(client, db, cases):
    ids = [s.signal_id for s in cases.values()]
    assert (
        await db.fetchval("select count(*) from signals where signal_id = any($1::text[])", ids)
        == 3
    )
    page = (await client.get("/signals", params={"limit": 500})).json()
    listed = {s["signal_id"] for s in page["signals"]}
    assert cases["benefit_after_death"].signal_id in listed
    assert cases["third_party_liability"].signal_id in listed
    assert cases["near_duplicate_bill"].signal_id not in listed  # Jinan's
    jinan = bearer("fraud", kind="agency", region="370100", scope="fraud:review")
    theirs = (await client.get("/signals", headers=jinan, params={"limit": 500})).json()
    assert cases["near_duplicate_bill"].signal_id in {s["signal_id"] for s in theirs["signals"]}


async def test_the_list_filters_by_kind_status_region_and_amount_and_pages(client, cases):
    death = cases["benefit_after_death"].signal_id
    asked = {"kind": "benefit_after_death", "status": "open", "region": "370200", "limit": 500}
    found = (await client.get("/signals", params=asked)).json()
    assert death in {s["signal_id"] for s in found["signals"]}
    assert {s["kind"] for s in found["signals"]} == {"benefit_after_death"}
    small = (await client.get("/signals", params={**asked, "max_amount_fen": 8_799})).json()
    assert death not in {s["signal_id"] for s in small["signals"]}
    big = (await client.get("/signals", params={**asked, "min_amount_fen": 8_800})).json()
    assert death in {s["signal_id"] for s in big["signals"]}
    first = (await client.get("/signals", params={"limit": 1})).json()
    second = (await client.get("/signals", params={"limit": 1, "offset": 1})).json()
    assert first["total"] >= 2 and len(first["signals"]) == 1
    assert first["signals"][0]["amount_fen"] >= second["signals"][0]["amount_fen"]
    assert first["signals"][0]["signal_id"] != second["signals"][0]["signal_id"]
    elsewhere = await client.get("/signals", params={"region": "370100"})
    assert elsewhere.status_code == 403 and elsewhere.headers["content-type"] == PROBLEM


async def test_a_signal_shows_its_evidence(client, cases):
    signal = cases["benefit_after_death"]
    shown = (await client.get(f"/signals/{signal.signal_id}")).json()
    assert shown["kind"] == "benefit_after_death" and shown["status"] == "open"
    assert shown["amount_fen"] == 8_800 and shown["record_date"] == DAY.isoformat()
    assert shown["record_reference"] == signal.record_reference
    [benefit] = shown["benefits"]
    assert benefit["kind"] == "account_debit"
    assert benefit["service_date"] == (DAY + timedelta(days=2)).isoformat()
    missing = await client.get(f"/signals/{secrets.token_hex(8)}")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


async def test_a_signal_is_resolved_once_with_what_was_recovered(client, db, cases):
    signal = cases["benefit_after_death"]
    url = f"/signals/{signal.signal_id}/resolution"
    too_much = await client.post(url, json={"outcome": "confirmed", "recovered_fen": 8_801})
    assert too_much.status_code == 422, too_much.text
    assert too_much.headers["content-type"] == PROBLEM
    unstated = await client.post(url, json={"outcome": "confirmed"})
    assert unstated.status_code == 422, unstated.text
    confirmed = await client.post(
        url, json={"outcome": "confirmed", "recovered_fen": 8_800, "reason": "家属持卡购药"}
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (body["status"], body["recovered_fen"], body["resolved_by"]) == (
        "confirmed",
        8_800,
        "auditor-qd-07",
    )
    again = await client.post(url, json={"outcome": "dismissed", "reason": "重复"})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    [resolved] = await outbox_of(db, signal.person_id)
    event = resolved.event
    assert isinstance(event, FraudSignalResolved)
    assert (event.signal_id, event.outcome, event.recovered_fen, event.reason) == (
        signal.signal_id,
        "confirmed",
        8_800,
        "家属持卡购药",
    )


async def test_a_dismissal_needs_its_reason_and_recovers_nothing(client, db, cases):
    signal = cases["third_party_liability"]
    url = f"/signals/{signal.signal_id}/resolution"
    assert (await client.post(url, json={"outcome": "dismissed"})).status_code == 422
    with_money = {"outcome": "dismissed", "reason": "x", "recovered_fen": 5}
    assert (await client.post(url, json=with_money)).status_code == 422
    dismissed = await client.post(
        url, json={"outcome": "dismissed", "reason": "本人负事故全部责任，无第三方"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["recovered_fen"]) == ("dismissed", 0)
    [resolved] = await outbox_of(db, signal.person_id)
    assert resolved.type == FraudSignalResolved.ce_type
