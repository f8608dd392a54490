"""An HTTP request to enrollment ends as an SMS recorded by notification, through the real
broker, the outbox relay, the progress-notice processor and notification's dispatcher."""

import asyncio
import random
import time
from datetime import date

import pytest
from aiokafka import AIOKafkaProducer

from chs_events.topics import ENROLLMENT_EVENTS, dlq_of
from tests.e2e.people import Person, new_employer
from tests.support.broker import read_topic, until
from tests.support.service import without_token

TAG = "【中国医疗保障】"


async def sms_of(platform, person_id: str, template_id: str, timeout: float = 60.0) -> dict:
    """The person's SMS of the template, as the person reads it in the public app."""

    async def arrived():
        async with platform.client("notification", kind="person", person_id=person_id) as own:
            response = await own.get(f"/persons/{person_id}/messages")
        return next(
            (
                m
                for m in response.json()["messages"]
                if m["template_id"] == template_id and m["status"] in ("sent", "delivered")
            ),
            None,
        )

    return await until(arrived, timeout=timeout, interval=0.2)


@pytest.fixture
def rng():
    return random.Random()


async def test_staff_added_by_a_qingdao_employer_gets_the_registered_sms(platform, enrollment, rng):
    employer = await new_employer(enrollment, "青岛港湾物流有限公司")
    local = Person.make(rng)
    elderly_from_jiangsu = Person.make(rng, born=date(1958, 3, 9), mobile_prefix="1391234")
    requested = time.monotonic()
    response = await enrollment.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {**p.as_json(), "contribution_base_fen": 650000, "start_date": "2026-11-01"}
                for p in (local, elderly_from_jiangsu)
            ]
        },
    )
    assert response.status_code == 200, response.text
    local_id, elderly_id = (item["person_id"] for item in response.json()["items"])

    sms = await sms_of(platform, local_id, "enrollment.registered")
    first_sms_seconds = time.monotonic() - requested
    elderly_sms = await sms_of(platform, elderly_id, "enrollment.registered")

    assert sms["text"] == (
        f"{TAG}尊敬的{local.name}，您已在青岛市成功参加职工基本医疗保险，"
        "参保开始日期为2026-11-01。如有疑问请咨询当地医保经办机构。"
    )
    assert sms["sender"] == "10639239"
    assert sms["mobile_masked"] == local.mobile[:3] + "****" + local.mobile[-4:]
    assert (
        elderly_sms["text"]
        == f"{TAG}2026-11-01起，{elderly_from_jiangsu.name}参保成功，看病可以用医保了。"
    )
    assert elderly_sms["sender"] == "106575376196"
    print(f"first SMS recorded {first_sms_seconds:.2f} s after the HTTP request")


async def test_contribution_and_newborn_reach_the_mother(platform, enrollment, notification, rng):
    employer = await new_employer(enrollment, "青岛海川电子有限公司")
    mother = Person.make(rng, born=date(1997, 2, 14))
    added = await enrollment.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {**mother.as_json(), "contribution_base_fen": 700000, "start_date": "2026-01-01"}
            ]
        },
    )
    [item] = added.json()["items"]
    paid = await enrollment.post(
        "/contributions",
        json={
            "payment_id": f"QD-{rng.randrange(10**9)}",
            "enrollment_id": item["enrollment_id"],
            "period": "202610",
            "amount_fen": 70000,
            "employer_part_fen": 56000,
            "personal_part_fen": 14000,
        },
    )
    assert paid.status_code == 201, paid.text
    newborn = await enrollment.post(
        "/newborns",
        json={
            "birth_certificate_no": f"Q{rng.randrange(10**9):09d}",
            "name": "李小满",
            "sex": "F",
            "birth_date": "2026-11-20",
            "guardian_person_id": item["person_id"],
            "pooling_region": "370200",
        },
    )
    assert newborn.status_code == 201, newborn.text

    contribution = await sms_of(platform, item["person_id"], "enrollment.contribution_paid")
    born = await sms_of(platform, item["person_id"], "enrollment.newborn_enrolled")

    assert contribution["text"] == (
        f"{TAG}尊敬的{mother.name}，您2026年10月的职工基本医疗保险缴费700.00元已到账。"
    )
    assert born["text"].startswith(TAG) and "李小满" in born["text"] and "青岛市" in born["text"]
    assert born["sender"] == "10639239"
    await sms_of(platform, item["person_id"], "account.credited")  # her account's income
    await asyncio.sleep(1.0)  # a stray notice about the child would have arrived by now
    templates = sorted(
        m["template_id"]
        for m in (await notification.get(f"/persons/{item['person_id']}/messages")).json()[
            "messages"
        ]
    )
    assert templates == [
        "account.credited",
        "enrollment.contribution_paid",
        "enrollment.newborn_enrolled",
        "enrollment.registered",
    ]


async def test_malformed_event_is_dead_lettered_and_the_platform_keeps_going(
    platform, enrollment, rng
):
    topic = platform.prefix + ENROLLMENT_EVENTS
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            key=b"p-broken",
            value=b'{"person_id": 1',
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_type", b"chs.enrollment.registered.v1"),
                ("content-type", b"application/json"),
            ],
        )
    finally:
        await producer.stop()
    person = Person.make(rng)
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]
    enrolled = await enrollment.post(
        f"/persons/{person_id}/enrollments", json={"insutype": "390", "pooling_region": "370200"}
    )
    assert enrolled.status_code == 201, enrolled.text

    await sms_of(platform, person_id, "enrollment.registered")
    # notification reads chs.enrollment.contacts now, not this topic
    required = {"remote-care-enrollments", "progress-notices"}

    async def dead_letters():
        records = [
            r
            for r in await read_topic(
                platform.kafka_bootstrap, dlq_of(topic), expected=10**6, timeout=2
            )
            if r.key == b"p-broken"
        ]
        consumers = [dict(r.headers)["dlq_consumer"].decode() for r in records]
        return (records, consumers) if required <= set(consumers) else None

    dead, consumers = await until(dead_letters, timeout=60)
    assert len(consumers) == len(set(consumers))  # once per consumer group
    assert "notification-directory" not in consumers
    assert all(dict(r.headers)["dlq_reason"].startswith(b"value is not JSON") for r in dead)
    assert all(r.value == b'{"person_id": 1' for r in dead)


async def test_bad_input_is_refused_with_a_problem_naming_the_field(enrollment, rng):
    person = Person.make(rng)
    cases = {
        "id_number": {
            **person.as_json(),
            "id_number": person.id_number[:-1] + ("0" if person.id_number[-1] != "0" else "1"),
        },
        "mobile": {**person.as_json(), "mobile": "12345678901"},
        "region_code": {**person.as_json(), "region_code": "371200"},
    }
    for field, body in cases.items():
        response = await enrollment.post("/persons", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and field in problem["detail"]
        assert [e["field"] for e in problem["errors"]] == [field]
    malformed = await enrollment.post(
        "/persons", content=b"{", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"


async def test_an_employer_key_cannot_remove_another_employers_staff(enrollment, rng):
    first = await new_employer(enrollment, "青岛第一机械厂")
    second = await new_employer(enrollment, "济南第二纺织厂", region_code="370100")
    worker = Person.make(rng)
    added = await enrollment.post(
        f"/employers/{first['employer_id']}/staff/batch-add",
        headers={"X-API-Key": first["api_key"]},
        json={
            "items": [
                {**worker.as_json(), "contribution_base_fen": 500000, "start_date": "2026-11-01"}
            ]
        },
    )
    [item] = added.json()["items"]
    removal = {"items": [{"person_id": item["person_id"]}]}

    with_other_key = await enrollment.post(
        f"/employers/{first['employer_id']}/staff/batch-remove",
        headers={"X-API-Key": second["api_key"]},
        json=removal,
    )
    through_own_path = await enrollment.post(
        f"/employers/{second['employer_id']}/staff/batch-remove",
        headers={"X-API-Key": second["api_key"]},
        json=removal,
    )
    without_key = await without_token(
        enrollment, "POST", f"/employers/{first['employer_id']}/staff/batch-remove", json=removal
    )

    assert with_other_key.status_code == 403
    assert through_own_path.status_code == 403
    assert without_key.status_code == 401
    person = (await enrollment.get(f"/persons/{item['person_id']}")).json()
    [enrolled] = person["enrollments"]
    assert (enrolled["employer_id"], enrolled["status"]) == (first["employer_id"], "active")


async def test_logs_show_mobiles_and_id_numbers_only_masked(platform, enrollment, rng):
    person = Person.make(rng)
    registered = await enrollment.post("/persons", json=person.as_json())
    person_id = registered.json()["person_id"]
    await enrollment.post(
        f"/persons/{person_id}/enrollments", json={"insutype": "390", "pooling_region": "370200"}
    )
    await sms_of(platform, person_id, "enrollment.registered")

    logs = "".join(path.read_text(encoding="utf-8") for path in platform.log_files())
    assert person.mobile[:3] + "****" + person.mobile[-4:] in logs  # the dispatcher logged it
    assert person.mobile not in logs
    assert person.id_number not in logs


async def test_a_mobile_change_needs_the_code_sent_to_the_new_number(
    platform, enrollment, notification_db, rng
):
    person, new = Person.make(rng), Person.make(rng, mobile_prefix="1391234").mobile
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]

    async def sms_to(mobile: str, template: str) -> str | None:
        return await notification_db.fetchval(
            """select s.text from local_gateway_sms s join messages m using (message_id)
               where s.mobile = $1 and m.template_id = $2""",
            mobile,
            template,
        )

    async with platform.client("enrollment", kind="person", person_id=person_id) as own:
        requested = await own.put(f"/persons/{person_id}/contact", json={"mobile": new})
        assert requested.status_code == 202, requested.text
        text = await until(lambda: sms_to(new, "enrollment.contact_confirmation"), timeout=60)
        code = text.split("验证码为")[1][:6]
        # nothing changed yet; the person's messages show the code masked
        assert (await own.get(f"/persons/{person_id}")).json()["mobile_masked"] == (
            person.mobile[:3] + "****" + person.mobile[-4:]
        )
        shown = await sms_of(platform, person_id, "enrollment.contact_confirmation")
        assert code not in shown["text"] and "******" in shown["text"]

        confirmed = await own.post(
            f"/persons/{person_id}/contact/confirmation", json={"code": code}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["mobile_masked"] == new[:3] + "****" + new[-4:]

    told = await until(lambda: sms_to(person.mobile, "enrollment.contact_changed"), timeout=60)
    assert told == (
        f"{TAG}尊敬的{person.name}，您在医保登记的手机号已变更为{new[:3]}****{new[-4:]}。"
        "如非本人操作，请及时联系当地医保经办机构。"
    )
    assert await sms_to(new, "enrollment.contact_changed") is None
