"""Discharge day in Shouguang (寿光, 370783): chronic diseases (门诊慢特病), over HTTP against the
running platform, and one settlement event on Kafka.

A Shouguang couple registers. She is discharged from the city hospital with type 2 diabetes
(E11.9): the hospital applies on the discharge day and it is certified in the same request. A
second application (rheumatoid arthritis, M05.3) waits for a reviewer, who certifies it; a
third, for pneumonia (J18.9), is refused naming the rule. Her husband, 67, is discharged from
Weifang's hospital with lung cancer (C34.1): the settlement event — published here the way the
reimbursement service will, and delivered twice — certifies malignant-tumour outpatient therapy
without any application (免申即享), once. Each step prints the SMS it caused.
Environment: CHS_ENROLLMENT_URL, CHS_CHRONIC_URL, CHS_NOTIFICATION_URL, CHS_KAFKA_BOOTSTRAP,
CHS_TOPIC_PREFIX, CHS_DEMO_TIMEOUT (30 s).
"""

import asyncio
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from aiokafka import AIOKafkaProducer
from demo_support import (
    CHINA,
    CHRONIC,
    SHOUGUANG_HOSPITAL,
    as_,
    call,
    fail,
    local_client,
    messages_of,
    new_person,
    register,
    run,
    sms_caused,
)

from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import REIMBURSEMENT_EVENTS

KAFKA = os.environ.get("CHS_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PREFIX = os.environ.get("CHS_TOPIC_PREFIX", "")
SHOUGUANG, WEIFANG = "370783", "370700"
HOSPITAL = {
    "institution_code": "H37078300001",
    "doctor_id": "D3707830012",
    "doctor_name": "王医生",
}


def register_resident(client: httpx.Client, step: str, birth: date, female: bool) -> str:
    """A Shouguang resident registers; their SMS go to the mobile registered here."""
    person = new_person(SHOUGUANG, birth, female)
    person_id = register(client, step, person)["person_id"]
    print(f"     {person.described()} → person {person_id}")
    return person_id


def apply(
    client: httpx.Client,
    step: str,
    person_id: str,
    diagnoses: list[str],
    evidence: list[dict],
    condition_code: str | None = None,
) -> dict:
    today = datetime.now(CHINA).date()
    answer = call(
        client,
        step,
        "POST",
        f"{CHRONIC}/applications",
        201,
        auth=as_(SHOUGUANG_HOSPITAL),
        json={
            **HOSPITAL,
            "person_id": person_id,
            "discharge_date": today.isoformat(),
            "diagnosis_codes": diagnoses,
            "evidence": evidence,
            "condition_code": condition_code,
        },
    )
    show(answer)
    return answer


def show(answer: dict) -> None:
    line = f"     application {answer['application_id']}: {answer['status']}"
    if answer["rule"]:
        line += f" (rule {answer['rule']}: {answer['reason']})"
    print(line)
    if c := answer.get("certification"):
        print(
            f"     certified {c['condition_name']} ({c['condition_code']}), {c['valid_from']} – "
            f"{c['valid_until']}, annual cap {c['annual_cap_fen']} fen, "
            f"ratio {c['pay_ratio_permille']}‰"
        )


async def publish_twice(record) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(
                PREFIX + REIMBURSEMENT_EVENTS,
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
    finally:
        await producer.stop()


def main() -> None:
    today = datetime.now(CHINA).date()
    print(f"CHS chronic-disease demo run {run}: chronic {CHRONIC}, Kafka {KAFKA}\n")
    client = local_client()
    seen: set[str] = set()

    print("1. A Shouguang couple registers (their SMS go to the mobiles registered here)")
    wife = register_resident(client, "wife", today - timedelta(days=56 * 365 + 40), female=True)
    husband = register_resident(
        client, "husband", today - timedelta(days=67 * 365 + 90), female=False
    )

    print("\n2. She is discharged with type 2 diabetes (E11.9); the hospital applies at once")
    apply(
        client, "t2dm", wife, ["E11.9"], [{"kind": "lab_report", "reference": "LIS-0001"}], "t2dm"
    )
    sms_caused(client, wife, "chronic.certified", seen)

    print("\n3. Rheumatoid arthritis (M05.3) needs a reviewer; the reviewer certifies it")
    queued = apply(client, "ra", wife, ["M05.3"], [{"kind": "lab_report", "reference": "LIS-0002"}])
    sms_caused(client, wife, "chronic.pending_review", seen)
    queue = call(client, "queue", "GET", f"{CHRONIC}/review-queue", 200)
    print(f"     review queue: {queue['count']} application(s)")
    show(
        call(
            client,
            "review",
            "POST",
            f"{CHRONIC}/applications/{queued['application_id']}/decision",
            200,
            json={"decision": "certify", "reviewer": "SG-REVIEW-07"},
        )
    )
    sms_caused(client, wife, "chronic.certified", seen)

    print("\n4. Pneumonia (J18.9) is not in the catalog: refused, naming the rule")
    apply(client, "pneumonia", wife, ["J18.9"], [])
    sms_caused(client, wife, "chronic.rejected", seen)

    print(
        "\n5. Her husband is discharged from 潍坊市人民医院 with lung cancer (C34.1); the "
        "settlement event arrives twice"
    )
    discharged = today - timedelta(days=1)
    settlement = SettlementCompleted(
        person_id=husband,
        settlement_id=f"S-{run}-{uuid.uuid4().hex[:6]}",
        insutype="390",
        institution_code="H37070000003",
        institution_name="潍坊市人民医院",
        institution_level=3,
        institution_region=WEIFANG,
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
        invoice_no=f"3707{random.randint(0, 10**12):012d}",
        settled_at=datetime.now(UTC),
    )
    try:
        asyncio.run(publish_twice(Envelope(settlement, source="/chs/reimbursement").to_record()))
    except Exception as error:  # noqa: BLE001 - the demo says what went wrong and stops
        fail(f"publishing to Kafka at {KAFKA}: {error!r}")
    print(
        f"     settlement {settlement.settlement_id}: total {settlement.total_fen} fen, pooled "
        f"fund {settlement.pooled_fund_fen}, critical illness "
        f"{settlement.critical_illness_fen}, cash {settlement.personal_cash_fen}"
    )
    sms_caused(client, husband, "chronic.auto_certified", seen)
    time.sleep(2)
    auto = [m for m in messages_of(client, husband) if m["template_id"] == "chronic.auto_certified"]
    print(f"     auto-certified SMS to him: {len(auto)} (the event was delivered twice)")
    if len(auto) != 1:
        fail(f"expected one auto-certified SMS, found {len(auto)}")

    print("\n6. Their certified conditions")
    for person_id in (wife, husband):
        found = call(
            client,
            f"conditions-{person_id[:6]}",
            "GET",
            f"{CHRONIC}/persons/{person_id}/conditions",
            200,
        )
        for c in found["active"]:
            print(
                f"     {person_id}: {c['condition_name']} ({c['source']}) until {c['valid_until']}"
            )
    print("\nDemo complete.")


if __name__ == "__main__":
    main()
