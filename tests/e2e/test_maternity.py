"""Maternity (生育津贴) through the real stack: an employee enrolled by her employer's HR system
(staff batch-add with a contribution base) delivers; the hospital settles it over HTTP with the
reimbursement service, whose settlement event the broker delivers twice; the allowance is
granted without application (免申即享) once, at the amount of the rule, with one SMS. Each
request is made by its caller: the employer reads its average wage, the hospital settles, the
mother reads her allowances and messages."""

import asyncio
import random
from contextlib import AsyncExitStack
from datetime import date, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from stdnum.cn import ric

from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import REIMBURSEMENT_EVENTS
from tests.e2e.people import Person, new_employer
from tests.support.broker import read_topic, until

TAG = "【中国医疗保障】"
SETTLED = b"chs.reimbursement.settlement.completed.v1"


HOSPITAL = "H37020000001"  # 青岛市妇女儿童医院


@pytest.fixture
async def hospital(platform):
    """The HIS of the hospital that settles the delivery."""
    async with platform.client(
        "reimbursement", kind="institution", institution_code=HOSPITAL
    ) as client:
        yield client


@pytest.fixture
async def caller(platform):
    """``caller(service, kind=..., **claims)``: a client of the service for that caller."""
    async with AsyncExitStack() as stack:

        async def client_of(service: str, **token) -> httpx.AsyncClient:
            return await stack.enter_async_context(platform.client(service, **token))

        yield client_of


def woman(rng: random.Random, born: date, region: str = "370202") -> Person:
    """A person whose ID number says female (an even 17th digit)."""
    person = Person.make(rng, born=born, region=region)
    body = f"{region}{born:%Y%m%d}{rng.randrange(50):02d}{rng.randrange(5) * 2}"
    return Person(body + ric.calc_check_digit(body + "0"), person.name, person.mobile, region)


async def messages(notification: httpx.AsyncClient, person_id: str) -> list[dict]:
    response = await notification.get(f"/persons/{person_id}/messages")
    return response.json()["messages"]


async def test_maternity_settlement_delivered_twice_grants_the_allowance_once_with_one_sms(
    platform, enrollment, hospital, caller
):
    rng = random.Random()
    employer = await new_employer(enrollment, "青岛海川电子有限公司")
    mother = woman(rng, date(1995, 6, 12))
    added = await enrollment.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {**mother.as_json(), "contribution_base_fen": 750_000, "start_date": "2025-01-01"}
            ]
        },
    )
    assert added.status_code == 200, added.text
    [item] = added.json()["items"]
    person_id = item["person_id"]
    wages = await caller("maternity", kind="employer", employer_id=employer["employer_id"])
    maternity = await caller("maternity", kind="person", person_id=person_id)
    notification = await caller("notification", kind="person", person_id=person_id)

    async def wage_known():  # maternity has read the enrollment (and its base)
        wage = (await wages.get(f"/employers/{employer['employer_id']}/average-wage")).json()
        return wage if wage["staff"] == 1 else None

    wage = await until(wage_known, timeout=60, interval=0.2)
    assert (wage["monthly_wage_fen"], wage["daily_wage_fen"]) == (750_000, 25_000)

    # the hospital settles the delivery over HTTP; reimbursement publishes the settlement
    discharged = date(2026, 11, 18)
    bill = {
        "person_id": person_id,
        "institution_code": HOSPITAL,
        "visit_type": "inpatient",
        "admission_date": (discharged - timedelta(days=4)).isoformat(),
        "discharge_date": discharged.isoformat(),
        "diagnoses": ["O82.0", "Z37.0"],
        "eligible_fen": 1_150_000,
        "ineligible_fen": 100_000,
        "maternity": True,
        "invoice_no": f"3702{rng.randrange(10**12):012d}",
    }

    async def settled():
        response = await hospital.post("/settlements", json=bill)
        waiting = response.status_code == 422 and response.json().get("rule") == "not_enrolled"
        return None if waiting else response

    response = await until(settled, timeout=60, interval=0.2)
    assert response.status_code == 201, response.text
    settlement_id = response.json()["settlement_id"]

    async def published():
        records = await read_topic(
            platform.kafka_bootstrap, platform.prefix + REIMBURSEMENT_EVENTS, 1, timeout=2
        )
        return next(
            (
                r
                for r in records
                if r.key == person_id.encode() and dict(r.headers)["ce_type"] == SETTLED
            ),
            None,
        )

    record = await until(published, timeout=60, interval=0.5)
    completed = Envelope.from_record(record.key, record.value, record.headers).event
    assert isinstance(completed, SettlementCompleted)
    assert completed.settlement_id == settlement_id
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:  # the broker delivers it a second time
        await producer.send_and_wait(
            platform.prefix + REIMBURSEMENT_EVENTS,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
        )
    finally:
        await producer.stop()

    async def sms():
        return next(
            (
                m
                for m in await messages(notification, person_id)
                if m["template_id"] == "maternity.auto_approved"
                and m["status"] in ("sent", "delivered")
            ),
            None,
        )

    message = await until(sms, timeout=60, interval=0.2)

    # a caesarean (O82.0) single live birth (Z37.0): 98 + 15 = 113 days; the employer's
    # average is her base 750 000 fen; 750 000 // 30 = 25 000 fen a day; 25 000 × 113 =
    # 2 825 000 fen = 28 250.00 yuan
    [allowance] = (await maternity.get(f"/persons/{person_id}/allowances")).json()["allowances"]
    assert (allowance["source"], allowance["leave_days"], allowance["amount_fen"]) == (
        "auto",
        113,
        2_825_000,
    )
    assert message["text"] == (
        f"{TAG}尊敬的{mother.name}，根据您{discharged.isoformat()}的生育医疗结算，"
        "已为您免申办理生育津贴：113天，共28250.00元，无需另行申请，发放后将短信告知。"
    )
    await asyncio.sleep(3.0)  # a second allowance or SMS would have arrived by now
    assert len((await maternity.get(f"/persons/{person_id}/allowances")).json()["allowances"]) == 1
    assert [
        m["template_id"]
        for m in await messages(notification, person_id)
        if m["template_id"].startswith("maternity.")
    ] == ["maternity.auto_approved"]


async def test_a_reversed_maternity_settlement_cancels_the_unpaid_allowance_with_its_sms(
    platform, enrollment, hospital, caller
):
    """冲正 through the real stack: the hospital reverses the delivery's settlement over HTTP
    before the allowance is paid; maternity cancels the allowance it granted, and the mother
    is told by SMS (after the grant's SMS and the reversal's own)."""
    rng = random.Random()
    employer = await new_employer(enrollment, "青岛海川机械有限公司")
    mother = woman(rng, date(1994, 3, 8))
    added = await enrollment.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {**mother.as_json(), "contribution_base_fen": 600_000, "start_date": "2025-01-01"}
            ]
        },
    )
    assert added.status_code == 200, added.text
    person_id = added.json()["items"][0]["person_id"]
    maternity = await caller("maternity", kind="person", person_id=person_id)
    notification = await caller("notification", kind="person", person_id=person_id)
    discharged = date(2026, 11, 20)
    bill = {
        "person_id": person_id,
        "institution_code": HOSPITAL,
        "visit_type": "inpatient",
        "admission_date": (discharged - timedelta(days=3)).isoformat(),
        "discharge_date": discharged.isoformat(),
        "diagnoses": ["O80.0", "Z37.0"],
        "eligible_fen": 900_000,
        "ineligible_fen": 0,
        "maternity": True,
        "invoice_no": f"3702{rng.randrange(10**12):012d}",
    }

    async def settled():
        response = await hospital.post("/settlements", json=bill)
        waiting = response.status_code == 422 and response.json().get("rule") == "not_enrolled"
        return None if waiting else response

    response = await until(settled, timeout=60, interval=0.2)
    assert response.status_code == 201, response.text
    settlement_id = response.json()["settlement_id"]

    async def allowance(status: str):
        found = (await maternity.get(f"/persons/{person_id}/allowances")).json()["allowances"]
        return found[0] if found and found[0]["status"] == status else None

    granted = await until(lambda: allowance("approved"), timeout=60, interval=0.2)
    # 600 000 // 30 = 20 000 fen a day; a single normal birth: 98 days; 1 960 000 fen
    assert (granted["settlement_id"], granted["amount_fen"]) == (settlement_id, 1_960_000)
    reversed_ = await hospital.post(
        f"/settlements/{settlement_id}/reverse", json={"reason_code": "settlement_data_error"}
    )
    assert reversed_.status_code == 200, reversed_.text

    cancelled = await until(lambda: allowance("cancelled"), timeout=60, interval=0.2)
    assert cancelled["allowance_id"] == granted["allowance_id"]

    async def told():
        sent = {
            m["template_id"]: m
            for m in await messages(notification, person_id)
            if m["status"] in ("sent", "delivered")
        }
        wanted = ("maternity.auto_approved", "reimbursement.reversed", "maternity.cancelled")
        return sent if all(t in sent for t in wanted) else None

    sent = await until(told, timeout=60, interval=0.2)
    assert sent["maternity.cancelled"]["text"] == (
        f"{TAG}尊敬的{mother.name}，您{discharged.isoformat()}的生育医疗结算已冲正，"
        "据此免申办理的生育津贴19600.00元已取消。如医院重新结算，将据新的结算重新办理；"
        "如有疑问请咨询当地医保经办机构。"
    )
