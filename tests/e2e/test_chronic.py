"""Chronic diseases (门诊慢特病) through the real stack: an application at the hospital on the
discharge day is certified in the request and the SMS arrives; a settlement with an
auto-category discharge diagnosis certifies it without application (免申即享), exactly once
even when the broker delivers the event twice, and its SMS arrives once, as does the
settlement's own SMS."""

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer

from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import REIMBURSEMENT_EVENTS
from tests.e2e.people import Person
from tests.support.broker import until

TAG = "【中国医疗保障】"


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
async def chronic(platform):
    """The hospital of the applications (寿光市人民医院): it applies and reads persons'
    conditions."""
    hospital = {"institution_code": "H37078300001", "region": "370783"}
    async with platform.client("chronic", kind="institution", **hospital) as client:
        yield client


@pytest.fixture
def rng():
    return random.Random()


async def registered(enrollment, person: Person) -> str:
    response = await enrollment.post("/persons", json=person.as_json())
    assert response.status_code == 201, response.text
    return response.json()["person_id"]


async def messages(notification, person_id: str, template_id: str) -> list[dict]:
    response = await notification.get(f"/persons/{person_id}/messages")
    return [m for m in response.json()["messages"] if m["template_id"] == template_id]


async def sms_of(notification, person_id: str, template_id: str, timeout: float = 60.0) -> dict:
    async def arrived():
        return next(
            (
                m
                for m in await messages(notification, person_id, template_id)
                if m["status"] in ("sent", "delivered")
            ),
            None,
        )

    return await until(arrived, timeout=timeout, interval=0.2)


async def test_discharge_with_e11_9_certifies_type_2_diabetes_and_the_sms_arrives(
    enrollment, notification, chronic, rng
):
    person = Person.make(rng, born=date(1972, 5, 3), region="370783")  # 寿光市
    person_id = await registered(enrollment, person)

    response = await chronic.post(
        "/applications",
        json={
            "person_id": person_id,
            "institution_code": "H37078300001",
            "doctor_id": "D3707830012",
            "doctor_name": "王医生",
            "discharge_date": today().isoformat(),
            "diagnosis_codes": ["E11.9"],
            "evidence": [{"kind": "lab_report", "reference": "LIS-2026-0001"}],
        },
    )

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["status"], answer["condition_code"]) == ("certified", "t2dm")
    valid_until = answer["certification"]["valid_until"]
    sms = await sms_of(notification, person_id, "chronic.certified")
    assert sms["text"] == (
        f"{TAG}尊敬的{person.name}，您申请的门诊慢特病“2型糖尿病”已认定通过，"
        f"有效期{today().isoformat()}至{valid_until}，"
        "可在定点医药机构按规定享受门诊慢特病待遇。"
    )
    assert sms["sender"] == "10639239"


async def test_settlement_delivered_twice_auto_certifies_once_and_one_sms_arrives(
    platform, enrollment, notification, chronic, rng
):
    person = Person.make(rng, born=date(1961, 8, 19), region="370702")  # 潍坊
    person_id = await registered(enrollment, person)
    discharged = today() - timedelta(days=1)
    record = Envelope(
        SettlementCompleted(
            person_id=person_id,
            settlement_id=f"S-{uuid.uuid4().hex[:12]}",
            insutype="390",
            institution_code="H37070000003",
            institution_name="潍坊市人民医院",
            institution_level=3,
            institution_region="370700",
            visit_type="inpatient",
            admission_date=discharged - timedelta(days=14),
            discharge_date=discharged,
            discharge_diagnoses=["C34.1", "I10"],
            total_fen=6_382_000,
            eligible_fen=5_710_000,
            ineligible_fen=672_000,
            pooled_fund_fen=3_826_000,
            critical_illness_fen=612_000,
            medical_assistance_fen=0,
            personal_cash_fen=1_944_000,
            invoice_no="37070026112200017",
            settled_at=datetime.now(UTC),
        ),
        source="/chs/reimbursement",
    ).to_record()
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # the broker delivers it twice
            await producer.send_and_wait(
                platform.prefix + REIMBURSEMENT_EVENTS,
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
    finally:
        await producer.stop()

    sms = await sms_of(notification, person_id, "chronic.auto_certified")

    conditions = (await chronic.get(f"/persons/{person_id}/conditions")).json()
    [certification] = conditions["active"]
    assert sms["text"] == (  # she is 65: the elderly-friendly text
        f"{TAG}{person.name}的慢病“恶性肿瘤门诊治疗”已自动办好，不用申请，"
        f"{certification['valid_until']}前有效。"
    )
    assert certification["valid_from"] == discharged.isoformat()
    await asyncio.sleep(3.0)  # a second certification or SMS would have arrived by now
    conditions = (await chronic.get(f"/persons/{person_id}/conditions")).json()
    assert [(c["condition_code"], c["source"]) for c in conditions["active"]] == [
        ("malignant_tumour", "auto")
    ]
    assert conditions["ended"] == []
    assert len(await messages(notification, person_id, "chronic.auto_certified")) == 1
    settled = await sms_of(notification, person_id, "reimbursement.settled")
    assert settled["text"] == (
        f"{TAG}{person.name}在潍坊市人民医院看病共63820.00元，已结算，自己付19440.00元。"
    )
    # I10 qualifies for hypertension, which she has not applied for: push recommends it (智能推荐),
    # once although the settlement came twice (sent, or deferred out of the quiet hours)
    [recommended] = await until(
        lambda: messages(notification, person_id, "chronic.recommendation"), timeout=60
    )
    assert recommended["category"] == "push"
    assert sorted(
        m["template_id"]
        for m in (await notification.get(f"/persons/{person_id}/messages")).json()["messages"]
    ) == ["chronic.auto_certified", "chronic.recommendation", "reimbursement.settled"]
