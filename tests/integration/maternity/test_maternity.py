"""The maternity service against a real PostgreSQL server (a fresh database for this module)
and a real broker: the allowance without application (免申即享) through the real consumer
runners, once even when the settlement is delivered twice; applications approved and paid."""

import asyncio
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from chs_events.admin import ensure_topics
from chs_events.clock import today
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.maternity import MaternityAllowanceCancelled
from chs_events.events.reimbursement import SettlementCompleted, SettlementReversed
from chs_events.retry import Backoff
from chs_events.topics import (
    BY_NAME,
    ENROLLMENT_EVENTS,
    REIMBURSEMENT_EVENTS,
    dead_letter_spec,
    dlq_of,
)
from chs_events.unit_of_work import UnitOfWork
from chs_maternity.api import create_app
from chs_maternity.consumers import SUBSCRIPTIONS
from chs_maternity.settings import MaternitySettings
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.people import new_person_id
from tests.support.service import consuming, outbox_of, service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

APPROVED, PAID, APPLIED, CANCELLED, RECOVERY = (
    "chs.maternity.approved.v1",
    "chs.maternity.paid.v1",
    "chs.maternity.applied.v1",
    "chs.maternity.cancelled.v1",
    "chs.maternity.recovery.raised.v1",
)


settings, app, client, db = service_fixtures("maternity", MaternitySettings, create_app)


def agency(region: str = "370000") -> dict[str, str]:
    """Agency staff of the province, with every business scope (maternity:approve, claims:pay)."""
    return bearer("maternity", kind="agency", region=region)


def person_token(person_id: str) -> dict[str, str]:
    return bearer("maternity", kind="person", person_id=person_id)


def employer_token(employer_id: str) -> dict[str, str]:
    return bearer("maternity", kind="employer", employer_id=employer_id)


async def outbox_types(db: asyncpg.Connection, key: str) -> list[str]:
    rows = await db.fetch("select headers from outbox where key = $1 order by position", key)
    return [dict(row["headers"])["ce_type"] for row in rows]


def enrolled(person_id: str, employer_id: str, base_fen: int) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=f"N{uuid.uuid4().hex[:12]}",
        insutype="310",
        pooling_region="370200",
        start_date=date(2025, 1, 1),
        employer_id=employer_id,
        employer_name="青岛港湾物流有限公司",
        contribution_base_fen=base_fen,
    )


def delivery(person_id: str, *diagnoses: str, settlement_id: str) -> SettlementCompleted:
    discharged = today() - timedelta(days=1)
    return SettlementCompleted(
        person_id=person_id,
        settlement_id=settlement_id,
        insutype="310",
        institution_code="H37020000001",
        institution_name="青岛市妇女儿童医院",
        institution_level=3,
        institution_region="370200",
        visit_type="inpatient",
        admission_date=discharged - timedelta(days=4),
        discharge_date=discharged,
        discharge_diagnoses=list(diagnoses),
        total_fen=1_200_000,
        eligible_fen=1_100_000,
        ineligible_fen=100_000,
        pooled_fund_fen=1_000_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        personal_cash_fen=200_000,
        invoice_no=f"I{settlement_id}",
        maternity=True,
        settled_at=datetime.now(UTC),
    )


async def test_delivery_settlement_delivered_twice_grants_the_allowance_once(
    settings, app, db, client, topic_prefix
):
    specs = [BY_NAME[REIMBURSEMENT_EVENTS], BY_NAME[ENROLLMENT_EVENTS]]
    await ensure_topics(
        settings.kafka_bootstrap,
        topic_prefix,
        [s for spec in specs for s in (spec, dead_letter_spec(spec))],
    )
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    mother, colleague, resident = new_person_id(), new_person_id(), new_person_id()
    employer = f"E{secrets.token_hex(5)}"
    records = [
        (
            ENROLLMENT_EVENTS,
            Envelope(enrolled(mother, employer, 700_000), source="/chs/enrollment").to_record(),
        ),
        (
            ENROLLMENT_EVENTS,
            Envelope(enrolled(colleague, employer, 800_001), source="/chs/enrollment").to_record(),
        ),
    ]
    settlement = Envelope(
        delivery(mother, "O82.0", "O30.0", "Z37.2", settlement_id="S-M1"),
        source="/chs/reimbursement",
        correlation_id="settle-m1",
    ).to_record()
    # a prenatal visit tells no delivery; a resident's (390) settlement grants nothing
    prenatal = Envelope(
        delivery(mother, "Z34.0", settlement_id="S-M2"), source="/chs/reimbursement"
    ).to_record()
    residents = Envelope(
        delivery(resident, "O80.0", "Z37.0", settlement_id="S-M3").model_copy(
            update={"insutype": "390"}
        ),
        source="/chs/reimbursement",
    ).to_record()
    later = [(REIMBURSEMENT_EVENTS, r) for r in (settlement, settlement, prenatal, residents)]

    async def publish(batch) -> None:
        await broker.publish_each(settings, [(topic_prefix + t, record) for t, record in batch])

    async def staff_known():
        wage = (
            await client.get(
                f"/employers/{employer}/average-wage", headers=employer_token(employer)
            )
        ).json()
        return wage["staff"] == 2

    async def all_seen():
        settled = await db.fetchval(
            "select count(*) from inbox where consumer = 'maternity-settlements' "
            "and event_id = any($1::uuid[])",
            [dict(r.headers)["ce_id"].decode() for r in (settlement, prenatal, residents)],
        )
        return settled == 3

    # the staff were enrolled long before the birth: their events are consumed first
    async with consuming(SUBSCRIPTIONS, app.state.pool, consumer_settings):
        await publish(records)
        await until(staff_known, timeout=60)
        await publish(later)  # the settlement twice: the broker delivers it twice
        await until(all_seen, timeout=60)

    # the employer's average: (700 000 + 800 001) // 2 = 750 000 fen; daily 750 000 // 30 =
    # 25 000 fen; twins by caesarean: 98 + 15 (difficult) + 15 (one extra baby) = 128 days;
    # 25 000 × 128 = 3 200 000 fen
    wage = (await client.get(f"/employers/{employer}/average-wage", headers=agency())).json()
    assert (wage["staff"], wage["monthly_wage_fen"], wage["daily_wage_fen"]) == (2, 750_000, 25_000)
    found = (await client.get(f"/persons/{mother}/allowances", headers=person_token(mother))).json()
    [allowance] = found["allowances"]
    assert (
        allowance["source"],
        allowance["settlement_id"],
        allowance["babies"],
        allowance["difficult_birth"],
        allowance["leave_days"],
        allowance["amount_fen"],
        allowance["status"],
    ) == ("auto", "S-M1", 2, True, 128, 3_200_000, "approved")
    assert await outbox_types(db, mother) == [APPROVED]
    resident_allowances = await client.get(
        f"/persons/{resident}/allowances", headers=person_token(resident)
    )
    assert resident_allowances.json()["allowances"] == []

    future = await client.post(
        f"/allowances/{allowance['allowance_id']}/pay",
        json={"payment_reference": "BANK-0", "paid_on": "2030-01-01"},
        headers=agency(),
    )
    assert (future.status_code, future.json()["errors"][0]["field"]) == (422, "paid_on")
    paid = await client.post(
        f"/allowances/{allowance['allowance_id']}/pay",
        json={"payment_reference": "BANK-1"},
        headers=agency(),
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert await outbox_types(db, mother) == [APPROVED, PAID]
    retried = await client.post(
        f"/allowances/{allowance['allowance_id']}/pay",
        json={"payment_reference": "BANK-1"},
        headers=agency(),
    )
    assert (retried.status_code, retried.json()["status"]) == (200, "paid")
    again = await client.post(
        f"/allowances/{allowance['allowance_id']}/pay",
        json={"payment_reference": "BANK-2"},
        headers=agency(),
    )
    assert again.status_code == 409
    assert await outbox_types(db, mother) == [APPROVED, PAID]
    # an application for the same confinement is already answered
    refused = await client.post(
        "/applications",
        json={
            "person_id": mother,
            "kind": "birth",
            "event_date": today().isoformat(),
            "reference": "BC-1",
        },
        headers=person_token(mother),
    )
    assert refused.status_code == 409, refused.text


async def test_a_miscarriage_is_applied_for_approved_and_paid(settings, app, db, client):
    person, colleague = new_person_id(), new_person_id()
    employer = f"E{secrets.token_hex(5)}"
    async with app.state.pool.acquire() as conn:  # the enrollment events, as the consumer would
        from chs_maternity.consumers import on_enrollment_registered

        for who, base in ((person, 600_000), (colleague, 600_000)):
            envelope = Envelope(enrolled(who, employer, base), source="/chs/enrollment")
            async with UnitOfWork.caused_by(conn, envelope, source=settings.ce_source) as uow:
                await on_enrollment_registered(uow, envelope)
    event_date = today() - timedelta(days=3)

    submitted = await client.post(
        "/applications",
        json={
            "person_id": person,
            "kind": "miscarriage",
            "event_date": event_date.isoformat(),
            "gestational_weeks": 17,
            "reference": "QDFY-2026-118802",
        },
        headers={**person_token(person), "X-Request-Id": "req-mat"},
    )
    assert submitted.status_code == 201, submitted.text
    application = submitted.json()
    assert (application["status"], application["employer_id"]) == ("pending", employer)

    approved = await client.post(
        f"/applications/{application['application_id']}/approve",
        json={"reviewer": "QD-MAT-03"},
        headers=agency(),
    )
    assert approved.status_code == 200, approved.text
    allowance = approved.json()["allowance"]
    # 600 000 // 30 = 20 000 fen a day; 17 weeks ≥ 16: 42 days; 20 000 × 42 = 840 000 fen
    assert (allowance["leave_days"], allowance["daily_wage_fen"], allowance["amount_fen"]) == (
        42,
        20_000,
        840_000,
    )
    assert await outbox_types(db, person) == [APPLIED, APPROVED]
    twice = await client.post(
        f"/applications/{application['application_id']}/approve",
        json={"reviewer": "QD-MAT-03"},
        headers=agency(),
    )
    assert twice.status_code == 409

    someone = new_person_id()
    stranger = await client.post(
        "/applications",
        json={
            "person_id": someone,
            "kind": "miscarriage",
            "event_date": event_date.isoformat(),
            "gestational_weeks": 10,
            "reference": "X-1",
        },
        headers=person_token(someone),
    )
    assert stranger.status_code == 422
    no_weeks = await client.post(
        "/applications",
        json={
            "person_id": colleague,
            "kind": "miscarriage",
            "event_date": event_date.isoformat(),
            "reference": "X-2",
        },
        headers=agency(),
    )
    assert no_weeks.status_code == 422


async def test_a_delivery_before_its_enrollment_is_granted_when_the_enrollment_arrives(
    settings, app, db, client, topic_prefix
):
    """The settlement and enrollment topics are not ordered against each other, and what is
    owed must not depend on which consumer was faster: a delivery whose enrollment this service
    has not read yet waits (parked), well past the runner's retries, and the allowance is
    granted when the enrollment arrives."""
    specs = [BY_NAME[REIMBURSEMENT_EVENTS], BY_NAME[ENROLLMENT_EVENTS]]
    await ensure_topics(
        settings.kafka_bootstrap,
        topic_prefix,
        [s for spec in specs for s in (spec, dead_letter_spec(spec))],
    )
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    mother, employer = new_person_id(), f"E{secrets.token_hex(5)}"
    settlement = Envelope(
        delivery(mother, "O80.0", "Z37.0", settlement_id="S-M7"), source="/chs/reimbursement"
    ).to_record()
    enrollment = Envelope(enrolled(mother, employer, 600_000), source="/chs/enrollment").to_record()

    async def publish(topic: str, record) -> None:
        await broker.publish(settings, topic_prefix + topic, record)

    async def granted():
        return await db.fetchval(
            "select amount_fen from allowances where settlement_id = 'S-M7' and person_id = $1",
            mother,
        )

    async with consuming(SUBSCRIPTIONS, app.state.pool, consumer_settings):
        await publish(REIMBURSEMENT_EVENTS, settlement)
        await asyncio.sleep(4.0)  # the default retries (about 1.4 s) are long over
        assert await granted() is None
        await publish(ENROLLMENT_EVENTS, enrollment)
        amount = await until(granted, timeout=30)
        dead = await read_topic(
            settings.kafka_bootstrap, topic_prefix + dlq_of(REIMBURSEMENT_EVENTS), 0, timeout=1
        )

    # the only staff member's base: 600 000 fen a month, 20 000 a day, 98 days
    assert amount == 1_960_000
    assert dead == []
    assert await outbox_types(db, mother) == [APPROVED]


async def test_an_application_for_a_day_still_to_come_is_refused(settings, app, db, client):
    """A birth or miscarriage has happened by the day it is applied for: tomorrow is a 422
    naming event_date, and nothing is recorded."""
    person, employer = new_person_id(), f"E{secrets.token_hex(5)}"
    async with app.state.pool.acquire() as conn:  # the enrollment event, as the consumer would
        from chs_maternity.consumers import on_enrollment_registered

        envelope = Envelope(enrolled(person, employer, 600_000), source="/chs/enrollment")
        async with UnitOfWork.caused_by(conn, envelope, source=settings.ce_source) as uow:
            await on_enrollment_registered(uow, envelope)
    body = {
        "person_id": person,
        "kind": "birth",
        "event_date": (today() + timedelta(days=1)).isoformat(),
        "reference": "SG-BIRTH-CERT-A8812345",
    }

    refused = await client.post("/applications", json=body, headers=person_token(person))

    assert refused.status_code == 422, refused.text
    assert "event_date" in refused.json()["detail"], refused.json()
    assert await outbox_types(db, person) == []
    today_ = await client.post(
        "/applications",
        json={**body, "event_date": today().isoformat()},
        headers=person_token(person),
    )
    assert today_.status_code == 201, today_.text


async def test_a_delivery_of_an_enrollment_never_seen_is_parked_then_dead_lettered(
    settings, app, db, topic_prefix
):
    """A delivery for an enrollment this service never reads waits for it up to the bound
    (``CHS_PARKING_BOUND_SECONDS``), then goes to the dead-letter topic with the reason —
    nothing is granted and nothing is dropped."""
    spec = BY_NAME[REIMBURSEMENT_EVENTS]
    await ensure_topics(settings.kafka_bootstrap, topic_prefix, [spec, dead_letter_spec(spec)])
    consumer_settings = settings.model_copy(
        update={
            "topic_prefix": topic_prefix,
            "parking_bound_seconds": 2.0,
            "parking_check_seconds": 0.2,
        }
    )
    stranger = new_person_id()
    record = Envelope(
        delivery(stranger, "O80.0", "Z37.0", settlement_id="S-M9"), source="/chs/reimbursement"
    ).to_record()
    await broker.publish(settings, topic_prefix + REIMBURSEMENT_EVENTS, record)
    [subscription] = [s for s in SUBSCRIPTIONS if s.name == "maternity-settlements"]
    stop = asyncio.Event()
    task = asyncio.create_task(
        ConsumerRunner(
            name=subscription.name,
            topics=subscription.topics,
            handlers=subscription.handlers,
            pool=app.state.pool,
            settings=consumer_settings,
            backoff=Backoff(max_attempts=3, base_delay=0.05),
        ).run(stop)
    )
    try:
        [dead] = await read_topic(
            settings.kafka_bootstrap, topic_prefix + dlq_of(REIMBURSEMENT_EVENTS), 1, timeout=60
        )
    finally:
        stop.set()
        await task
    assert dict(dead.headers)["ce_id"] == dict(record.headers)["ce_id"]
    assert dict(dead.headers)["dlq_error_type"] == b"ParkedTooLong"
    reason = dict(dead.headers)["dlq_reason"]
    assert reason.startswith(b"parked awaiting enrollment for more than 2 s")
    assert b"no employee enrollment known" in reason
    assert await db.fetchval("select count(*) from allowances where person_id = $1", stranger) == 0


def reversal(person_id: str, settlement_id: str, reason: str) -> SettlementReversed:
    return SettlementReversed(
        person_id=person_id,
        settlement_id=settlement_id,
        invoice_no=f"I{settlement_id}",
        institution_name="青岛市妇女儿童医院",
        total_fen=1_200_000,
        pooled_fund_fen=1_000_000,
        critical_illness_fen=0,
        medical_assistance_fen=0,
        reason_code=reason,
        reversed_at=datetime.now(UTC),
    )


async def publish_all(settings: MaternitySettings, records: list[tuple[str, Envelope]]) -> None:
    await broker.publish_each(settings, [(settings.topic(t), e) for t, e in records])


async def test_a_reversed_settlement_cancels_the_unpaid_allowance_and_recovers_the_paid_one(
    settings, app, db, client, topic_prefix
):
    """Through the real runners: the reversal (delivered twice) of a settlement whose allowance
    is not paid cancels it, and the confinement's new settlement grants it again; the reversal
    of one already paid leaves it paid and raises a recovery item, which the agency of the
    mother's region reads (and another region's does not); a reversal read before its
    settlement means the settlement grants nothing."""
    specs = [BY_NAME[REIMBURSEMENT_EVENTS], BY_NAME[ENROLLMENT_EVENTS]]
    await ensure_topics(
        settings.kafka_bootstrap,
        topic_prefix,
        [s for spec in specs for s in (spec, dead_letter_spec(spec))],
    )
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    unpaid, paid, early = new_person_id(), new_person_id(), new_person_id()
    employer = f"E{secrets.token_hex(5)}"
    ids = {
        name: f"S-{name}-{secrets.token_hex(4)}" for name in ("unpaid", "again", "paid", "early")
    }

    def settled(person_id: str, name: str) -> Envelope:
        return Envelope(
            delivery(person_id, "O80.0", "Z37.0", settlement_id=ids[name]),
            source="/chs/reimbursement",
        )

    def reversed_(person_id: str, name: str, reason: str = "settlement_data_error") -> Envelope:
        return Envelope(reversal(person_id, ids[name], reason), source="/chs/reimbursement")

    async def allowances(person_id: str) -> list[dict]:
        found = await client.get(f"/persons/{person_id}/allowances", headers=agency())
        return found.json()["allowances"]

    async def seen(envelopes: list[Envelope]) -> bool:
        count = await db.fetchval(
            "select count(*) from inbox where consumer = 'maternity-settlements' "
            "and event_id = any($1::uuid[])",
            list({e.id for e in envelopes}),
        )
        return count == len({e.id for e in envelopes})

    # a base of 600 000 fen each: 20 000 fen a day, 98 days, 1 960 000 fen
    staff = [
        (ENROLLMENT_EVENTS, Envelope(enrolled(who, employer, 600_000), source="/chs/enrollment"))
        for who in (unpaid, paid, early)
    ]
    first = [settled(unpaid, "unpaid"), settled(paid, "paid")]
    undo = reversed_(unpaid, "unpaid")
    later = [
        undo,
        undo,  # delivered twice
        settled(unpaid, "again"),  # the hospital settles the confinement again
        reversed_(paid, "paid", "duplicate_settlement"),
        reversed_(early, "early"),  # read before its settlement
        settled(early, "early"),
    ]
    async with consuming(SUBSCRIPTIONS, app.state.pool, consumer_settings):
        await publish_all(consumer_settings, staff)

        async def staff_known():
            wage = await client.get(
                f"/employers/{employer}/average-wage", headers=employer_token(employer)
            )
            return wage.json()["staff"] == 3

        await until(staff_known, timeout=60)
        await publish_all(consumer_settings, [(REIMBURSEMENT_EVENTS, e) for e in first])
        await until(lambda: seen(first), timeout=60)
        [to_pay] = await allowances(paid)
        payment = await client.post(
            f"/allowances/{to_pay['allowance_id']}/pay",
            json={"payment_reference": "BANK-R1"},
            headers=agency(),
        )
        assert payment.status_code == 200, payment.text
        await publish_all(consumer_settings, [(REIMBURSEMENT_EVENTS, e) for e in later])
        await until(lambda: seen(later), timeout=60)

    # not paid: cancelled, once; the new settlement of the confinement grants it again
    cancelled, regranted = sorted(
        await allowances(unpaid), key=lambda a: a["settlement_id"] != ids["unpaid"]
    )
    assert (cancelled["settlement_id"], cancelled["status"], cancelled["amount_fen"]) == (
        ids["unpaid"],
        "cancelled",
        1_960_000,
    )
    assert cancelled["settlement_reversed_at"] is not None
    assert (regranted["settlement_id"], regranted["status"]) == (ids["again"], "approved")
    assert await outbox_types(db, unpaid) == [APPROVED, CANCELLED, APPROVED]
    told = (await outbox_of(db, unpaid))[1]
    assert isinstance(told.event, MaternityAllowanceCancelled)
    assert told.causation_id == undo.id
    assert (
        told.event.allowance_id,
        told.event.settlement_id,
        told.event.amount_fen,
        told.event.reason,
        told.event.reversal_reason_code,
    ) == (
        cancelled["allowance_id"],
        ids["unpaid"],
        1_960_000,
        "settlement_reversed",
        "settlement_data_error",
    )
    refused = await client.post(
        f"/allowances/{cancelled['allowance_id']}/pay",
        json={"payment_reference": "BANK-X"},
        headers=agency(),
    )
    assert refused.status_code == 409, refused.text
    # paid: stays paid, and a recovery item of the amount paid is open for the agency
    [still] = await allowances(paid)
    assert (still["status"], still["payment_reference"]) == ("paid", "BANK-R1")
    assert await outbox_types(db, paid) == [APPROVED, PAID, RECOVERY]
    shown = await client.get("/recoveries", headers=agency("370200"))
    assert shown.status_code == 200, shown.text
    [item] = [r for r in shown.json()["recoveries"] if r["person_id"] == paid]
    assert (
        item["allowance_id"],
        item["settlement_id"],
        item["amount_fen"],
        item["payment_reference"],
        item["reversal_reason_code"],
        item["region"],
        item["status"],
    ) == (
        to_pay["allowance_id"],
        ids["paid"],
        1_960_000,
        "BANK-R1",
        "duplicate_settlement",
        "370200",
        "open",
    )
    assert [r for r in shown.json()["recoveries"] if r["person_id"] == unpaid] == []
    elsewhere = await client.get("/recoveries", headers=agency("370100"))
    assert elsewhere.status_code == 200
    assert [r for r in elsewhere.json()["recoveries"] if r["person_id"] == paid] == []
    # the reversal first: nothing granted, nothing told
    assert await allowances(early) == []
    assert await outbox_types(db, early) == []
