"""The chronic-disease API in-process against a real PostgreSQL server (a fresh database for
this module), and auto-certification through the real consumer runner on a real broker."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from chs_chronic.api import create_app
from chs_chronic.consumers import SETTLEMENTS_CONSUMER, SETTLEMENTS_HANDLERS, SETTLEMENTS_TOPICS
from chs_chronic.expiry import expire_due
from chs_chronic.settings import ChronicSettings
from chs_events.admin import ensure_topics
from chs_events.clock import today
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.topics import BY_NAME, REIMBURSEMENT_EVENTS, dead_letter_spec
from tests.support import broker
from tests.support.broker import until
from tests.support.service import client_of, outbox_of, service_fixtures, types
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
P = "chs.chronic."
APPLIED, CERTIFIED, REJECTED, REVOKED = (
    P + "applied.v1",
    P + "certified.v1",
    P + "rejected.v1",
    P + "revoked.v2",
)


def payload(envelope: Envelope) -> Any:
    """The event of an outbox row, read by its fields."""
    return envelope.event


def new_person() -> str:
    return "p" + secrets.token_hex(16)


fixtures = service_fixtures("chronic", ChronicSettings, create_app)
settings, app, db = fixtures.settings, fixtures.app, fixtures.db
HOSPITAL = {"institution_code": "H37078300001", "region": "370783"}  # 寿光市人民医院


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API as the hospital the applications name (寿光, Weifang): it applies,
    reads its applications, the catalog and persons' conditions."""
    async with client_of(app, "chronic") as client:
        client.headers.update(bearer("chronic", kind="institution", **HOSPITAL))
        yield client


def as_reviewer() -> dict[str, str]:
    """Province-wide agency staff with chronic:review: the review queue, decisions and
    revocations of every region of these tests."""
    return bearer("chronic", kind="agency")


def body(person_id: str, *diagnoses: str, **overrides) -> dict:
    return {
        "person_id": person_id,
        "institution_code": "H37078300001",
        "doctor_id": "D3707830012",
        "doctor_name": "王医生",
        "discharge_date": today().isoformat(),
        "diagnosis_codes": list(diagnoses),
        "evidence": [{"kind": "lab_report", "reference": "LIS-1"}],
        **overrides,
    }


async def apply(
    client: httpx.AsyncClient,
    person_id: str,
    *diagnoses: str,
    **overrides,
) -> dict:
    response = await client.post(
        "/applications",
        json=body(person_id, *diagnoses, **overrides),
        headers={"X-Request-Id": "req-chronic"},
    )
    assert response.status_code == 201, response.text
    return response.json()


# --- applications ------------------------------------------------------------------------------


async def test_discharge_with_e11_9_is_certified_in_the_same_request(client, db):
    person = new_person()
    answer = await apply(client, person, "e11.9")

    assert answer["status"] == "certified" and answer["condition_code"] == "t2dm"
    assert answer["diagnosis_codes"] == ["E11.9"] and answer["decided_by"] == "rules"
    certification = answer["certification"]
    assert certification["condition_name"] == "2型糖尿病" and certification["source"] == (
        "application"
    )
    assert certification["valid_from"] == today().isoformat()
    assert (certification["annual_cap_fen"], certification["pay_ratio_permille"]) == (400000, 600)
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, CERTIFIED]
    assert all(e.correlation_id == "req-chronic" and e.source == "/chs/chronic" for e in events)
    assert payload(events[0]).status == "decided"
    assert payload(events[1]).certification_id == certification["certification_id"]
    # both of the applying hospital's region, whose agency staff serve them
    assert (
        await db.fetchval(
            "select region from applications where application_id = $1", answer["application_id"]
        )
        == HOSPITAL["region"]
    )
    assert (
        await db.fetchval(
            "select region from certifications where certification_id = $1",
            certification["certification_id"],
        )
        == HOSPITAL["region"]
    )

    conditions = (await client.get(f"/persons/{person}/conditions")).json()
    assert [c["condition_code"] for c in conditions["active"]] == ["t2dm"]
    fetched = await client.get(f"/applications/{answer['application_id']}")
    assert fetched.status_code == 200 and fetched.json() == answer

    again = await client.post("/applications", json=body(person, "E11.9"))
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert types(await outbox_of(db, person)) == [APPLIED, CERTIFIED]


async def test_refused_application_names_the_rule(client, db):
    person = new_person()
    answer = await apply(client, person, "C34.1")  # 恶性肿瘤 needs a pathology report

    assert (answer["status"], answer["rule"], answer["reason"]) == (
        "rejected",
        "evidence_missing",
        "缺少病理报告",
    )
    assert answer["certification"] is None
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, REJECTED]
    assert (payload(events[1]).rule, payload(events[1]).decided_by) == ("evidence_missing", "rules")
    assert (await client.get(f"/persons/{person}/conditions")).json()["active"] == []


async def test_queued_application_is_decided_by_a_reviewer(client, db):
    person = new_person()
    answer = await apply(client, person, "I10", "E11.9")
    assert (answer["status"], answer["rule"], answer["condition_code"]) == (
        "pending_review",
        "several_conditions",
        None,
    )
    queue = (await client.get("/review-queue", headers=as_reviewer())).json()
    assert answer["application_id"] in [a["application_id"] for a in queue["applications"]]

    decided = await client.post(
        f"/applications/{answer['application_id']}/decision",
        json={"decision": "certify", "reviewer": "SG-REVIEW-07", "condition_code": "hypertension"},
        headers=as_reviewer(),
    )

    assert decided.status_code == 200, decided.text
    result = decided.json()
    assert (result["status"], result["decided_by"], result["condition_code"]) == (
        "certified",
        "SG-REVIEW-07",
        "hypertension",
    )
    assert result["certification"]["source"] == "review"
    assert result["certification"]["diagnosis_codes"] == ["I10"]
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, CERTIFIED]
    assert payload(events[0]).status == "pending_review"
    queue = (await client.get("/review-queue", headers=as_reviewer())).json()
    assert answer["application_id"] not in [a["application_id"] for a in queue["applications"]]
    twice = await client.post(
        f"/applications/{answer['application_id']}/decision",
        json={"decision": "reject", "reviewer": "R", "reason_code": "evidence_incomplete"},
        headers=as_reviewer(),
    )
    assert twice.status_code == 409


async def test_reviewer_refusal_is_a_rejection(client, db):
    person = new_person()
    answer = await apply(client, person, "M05.3")
    assert (answer["status"], answer["rule"]) == ("pending_review", "condition_requires_review")

    url = f"/applications/{answer['application_id']}/decision"
    for free_text in (
        {"decision": "reject", "reviewer": "SG-REVIEW-07", "reason": "检验结果不支持诊断"},
        {"decision": "reject", "reviewer": "SG-REVIEW-07", "reason_code": "检验结果不支持诊断"},
        {"decision": "reject", "reviewer": "SG-REVIEW-07"},
    ):
        refused = await client.post(url, json=free_text, headers=as_reviewer())
        assert refused.status_code == 422, refused.text
    decided = await client.post(
        url,
        json={"decision": "reject", "reviewer": "SG-REVIEW-07", "reason_code": "criteria_not_met"},
        headers=as_reviewer(),
    )

    assert decided.json()["status"] == "rejected"
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, REJECTED]
    assert (payload(events[1]).reason, payload(events[1]).decided_by) == (
        "检验检查结果未达到该病种认定标准",
        "review",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"diagnosis_codes": ["E11.9", "notacode"]}, "diagnosis_codes.1"),
        ({"condition_code": "no_such"}, "condition_code"),
        ({"discharge_date": "2999-01-01"}, "discharge_date"),
        ({"person_id": "someone"}, "person_id"),
        ({"institution_code": "H37999900001"}, "institution_code"),
        ({"institution_name": "寿光市人民医院（请致电 400-000-0000）"}, "institution_name"),
    ],
)
async def test_wrong_requests_are_422_naming_the_field(client, db, overrides, field):
    person = new_person()
    response = await client.post("/applications", json={**body(person, "E11.9"), **overrides})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await outbox_of(db, person) == []


async def test_catalog_and_match(client):
    catalog = (await client.get("/catalog")).json()
    assert len(catalog["conditions"]) >= 30
    assert sum(c["auto"] for c in catalog["conditions"]) == 8
    match = (await client.get("/catalog/match", params={"diagnosis": "c34.1"})).json()
    assert (match["diagnosis"], match["condition"]["code"]) == ("C34.1", "malignant_tumour")
    assert (await client.get("/catalog/match", params={"diagnosis": "J18.9"})).json()[
        "condition"
    ] is None


# --- expiry and revocation ---------------------------------------------------------------------


async def test_expiry_ends_due_certifications_once_across_instances(settings, client, db, app):
    person = new_person()
    answer = await apply(client, person, "E11.9")
    certification_id = answer["certification"]["certification_id"]
    await db.execute(
        """update certifications set valid_from = $2, valid_until = $3
                        where certification_id = $1""",
        certification_id,
        today() - timedelta(days=800),
        today() - timedelta(days=1),
    )

    pool = app.state.pool
    ended = await asyncio.gather(*(expire_due(pool, settings) for _ in range(4)))

    assert sum(ended) == 1  # four sweeps at once end it once
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, CERTIFIED, REVOKED]
    assert (payload(events[2]).reason, payload(events[2]).ended_on) == (
        "expired",
        today() - timedelta(days=1),
    )
    conditions = (await client.get(f"/persons/{person}/conditions")).json()
    assert conditions["active"] == [] and conditions["ended"][0]["status"] == "expired"
    renewed = await apply(client, person, "E11.9")  # a new application certifies it again
    assert renewed["status"] == "certified"


async def test_revoke(client, db):
    person = new_person()
    answer = await apply(client, person, "E11.9")
    certification_id = answer["certification"]["certification_id"]

    refused = await client.post(
        f"/certifications/{certification_id}/revoke",
        json={"reason": "复核发现诊断依据不足"},
        headers=as_reviewer(),
    )
    assert refused.status_code == 422, refused.text
    revoked = await client.post(
        f"/certifications/{certification_id}/revoke",
        json={"reason_code": "diagnosis_not_supported"},
        headers=as_reviewer(),
    )

    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["end_reason"]) == (
        "revoked",
        "diagnosis_not_supported",
    )
    events = await outbox_of(db, person)
    assert types(events) == [APPLIED, CERTIFIED, REVOKED]
    assert payload(events[2]).reason == "revoked"
    assert payload(events[2]).revocation_code == "diagnosis_not_supported"
    again = await client.post(
        f"/certifications/{certification_id}/revoke",
        json={"reason_code": "at_own_request"},
        headers=as_reviewer(),
    )
    assert again.status_code == 409
    assert (
        await client.post(
            "/certifications/nope/revoke",
            json={"reason_code": "at_own_request"},
            headers=as_reviewer(),
        )
    ).status_code == 404


# --- auto-certification (免申即享) through the real consumer runner ------------------------------


def settlement(person: str, *diagnoses: str, settlement_id: str) -> SettlementCompleted:
    discharged = today() - timedelta(days=1)
    return SettlementCompleted(
        person_id=person,
        settlement_id=settlement_id,
        insutype="390",
        institution_code="H37070000003",
        institution_name="潍坊市人民医院",
        institution_level=3,
        institution_region="370700",
        visit_type="inpatient",
        admission_date=discharged - timedelta(days=12),
        discharge_date=discharged,
        discharge_diagnoses=list(diagnoses),
        total_fen=4_850_000,
        eligible_fen=4_300_000,
        ineligible_fen=550_000,
        pooled_fund_fen=2_795_000,
        critical_illness_fen=420_000,
        medical_assistance_fen=0,
        personal_cash_fen=1_635_000,
        invoice_no=f"INV-{settlement_id}",
        settled_at=datetime.now(UTC),
    )


def duplicates() -> float:
    return (
        REGISTRY.get_sample_value(
            "chs_events_duplicate_total",
            {"consumer": SETTLEMENTS_CONSUMER, "topic": REIMBURSEMENT_EVENTS},
        )
        or 0.0
    )


async def test_settlement_delivered_twice_certifies_once(settings, app, db, client, topic_prefix):
    spec = BY_NAME[REIMBURSEMENT_EVENTS]
    await ensure_topics(settings.kafka_bootstrap, topic_prefix, [spec, dead_letter_spec(spec)])
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    person, other = new_person(), new_person()
    first = Envelope(
        settlement(person, "C34.1", "I10", settlement_id="S-1"),
        source="/chs/reimbursement",
        correlation_id="settle-1",
    ).to_record()
    # a second settlement naming the same condition, and one with no auto category
    second = Envelope(
        settlement(person, "C34.2", settlement_id="S-2"), source="/chs/reimbursement"
    ).to_record()
    ordinary = Envelope(
        settlement(other, "E11.9", settlement_id="S-3"), source="/chs/reimbursement"
    ).to_record()
    await broker.publish(
        settings, topic_prefix + REIMBURSEMENT_EVENTS, first, first, second, ordinary
    )
    duplicates_before = duplicates()
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=SETTLEMENTS_CONSUMER,
        topics=SETTLEMENTS_TOPICS,
        handlers=SETTLEMENTS_HANDLERS,
        pool=app.state.pool,
        settings=consumer_settings,
    )
    task = asyncio.create_task(runner.run(stop))
    try:

        async def all_seen():
            processed = await db.fetchval(
                "select count(*) from inbox where consumer = $1 and event_id = any($2::uuid[])",
                SETTLEMENTS_CONSUMER,
                [dict(r.headers)["ce_id"].decode() for r in (first, second, ordinary)],
            )
            return processed == 3 and duplicates() - duplicates_before >= 1

        await until(all_seen)
    finally:
        stop.set()
        await task

    conditions = (await client.get(f"/persons/{person}/conditions")).json()
    assert [
        (c["condition_code"], c["source"], c["settlement_id"], c["diagnosis_codes"])
        for c in conditions["active"]
    ] == [("malignant_tumour", "auto", "S-1", ["C34.1"])]
    assert conditions["active"][0]["valid_from"] == (today() - timedelta(days=1)).isoformat()
    events = await outbox_of(db, person)
    assert types(events) == [CERTIFIED]
    assert payload(events[0]).source == "auto"
    assert (
        await db.fetchval("select region from certifications where person_id = $1", person)
        == "370700"
    )  # the settling hospital's region
    assert events[0].correlation_id == "settle-1"
    assert events[0].causation_id == dict(first.headers)["ce_id"].decode()
    assert (await client.get(f"/persons/{other}/conditions")).json()["active"] == []
    assert await outbox_of(db, other) == []
    # an application for the auto-certified condition is already answered
    refused = await client.post(
        "/applications",
        json=body(person, "C34.1", evidence=[{"kind": "pathology", "reference": "PA-1"}]),
    )
    assert refused.status_code == 409


def reversal(person: str, settlement_id: str) -> SettlementReversed:
    return SettlementReversed(
        person_id=person,
        settlement_id=settlement_id,
        invoice_no=f"INV-{settlement_id}",
        institution_name="潍坊市人民医院",
        total_fen=4_850_000,
        pooled_fund_fen=2_795_000,
        critical_illness_fen=420_000,
        medical_assistance_fen=0,
        reason_code="settlement_data_error",
        reversed_at=datetime.now(UTC),
    )


async def test_a_reversed_settlement_revokes_the_auto_certification_it_alone_granted(
    settings, app, db, client, topic_prefix
):
    """Through the real runner: a certification granted only by the reversed settlement is
    revoked (settlement_reversed), once though the reversal is delivered twice; one from an
    application stays, and so does one another settlement still stands for (until that one
    is reversed too); a reversal read before its settlement means the settlement grants
    nothing."""
    spec = BY_NAME[REIMBURSEMENT_EVENTS]
    await ensure_topics(settings.kafka_bootstrap, topic_prefix, [spec, dead_letter_spec(spec)])
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    alone, applied, twice, both, early = (new_person() for _ in range(5))
    ids = {name: f"S-{name}-{secrets.token_hex(3)}" for name in "ABCDEFG"}
    by_application = await apply(
        client, applied, "C34.1", evidence=[{"kind": "pathology", "reference": "PA-7"}]
    )
    assert by_application["status"] == "certified"

    def completed(person: str, name: str, *diagnoses: str) -> Envelope:
        return Envelope(
            settlement(person, *diagnoses, settlement_id=ids[name]), source="/chs/reimbursement"
        )

    def reversed_(person: str, name: str) -> Envelope:
        return Envelope(reversal(person, ids[name]), source="/chs/reimbursement")

    undo_alone = reversed_(alone, "A")
    envelopes = [
        completed(alone, "A", "C34.1"),
        undo_alone,
        undo_alone,  # delivered twice
        completed(applied, "B", "C34.1"),
        reversed_(applied, "B"),
        completed(twice, "C", "N18.5"),
        completed(twice, "D", "N18.5"),
        reversed_(twice, "C"),
        completed(both, "E", "N18.6"),
        completed(both, "F", "N18.6"),
        reversed_(both, "E"),
        reversed_(both, "F"),
        reversed_(early, "G"),  # the reversal read first
        completed(early, "G", "C34.1"),
    ]
    records = [e.to_record() for e in envelopes]
    await broker.publish(settings, topic_prefix + REIMBURSEMENT_EVENTS, *records)
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=SETTLEMENTS_CONSUMER,
        topics=SETTLEMENTS_TOPICS,
        handlers=SETTLEMENTS_HANDLERS,
        pool=app.state.pool,
        settings=consumer_settings,
    )
    task = asyncio.create_task(runner.run(stop))
    try:

        async def all_seen():
            processed = await db.fetchval(
                "select count(*) from inbox where consumer = $1 and event_id = any($2::uuid[])",
                SETTLEMENTS_CONSUMER,
                list({e.id for e in envelopes}),
            )
            return processed == len({e.id for e in envelopes})

        await until(all_seen)
    finally:
        stop.set()
        await task

    async def conditions(person: str) -> dict:
        return (await client.get(f"/persons/{person}/conditions")).json()

    # granted by the reversed settlement alone: revoked, once
    found = await conditions(alone)
    assert found["active"] == []
    [ended] = found["ended"]
    assert (ended["source"], ended["status"], ended["end_reason"], ended["ended_on"]) == (
        "auto",
        "revoked",
        "settlement_reversed",
        today().isoformat(),
    )
    events = await outbox_of(db, alone)
    assert types(events) == [CERTIFIED, REVOKED]
    revoked = payload(events[1])
    assert (revoked.certification_id, revoked.reason, revoked.revocation_code) == (
        ended["certification_id"],
        "revoked",
        "settlement_reversed",
    )
    assert events[1].causation_id == undo_alone.id
    # certified on an application: a settlement naming it and then reversed leaves it
    found = await conditions(applied)
    assert [(c["source"], c["status"]) for c in found["active"]] == [("application", "active")]
    assert types(await outbox_of(db, applied)) == [APPLIED, CERTIFIED]
    # another settlement still stands for it: kept
    found = await conditions(twice)
    assert [(c["source"], c["settlement_id"]) for c in found["active"]] == [("auto", ids["C"])]
    assert types(await outbox_of(db, twice)) == [CERTIFIED]
    # both reversed: revoked at the second
    found = await conditions(both)
    assert found["active"] == [] and [c["end_reason"] for c in found["ended"]] == [
        "settlement_reversed"
    ]
    assert types(await outbox_of(db, both)) == [CERTIFIED, REVOKED]
    # the reversal first: the settlement grants nothing
    assert await conditions(early) == {"person_id": early, "active": [], "ended": []}
    assert await outbox_of(db, early) == []
