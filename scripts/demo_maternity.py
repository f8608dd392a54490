"""Maternity in Qingdao (青岛, 370200): the maternity allowance (生育津贴), over HTTP against the
running platform, and one settlement event replayed on Kafka.

A Qingdao employer's HR system adds two employees with their contribution bases; the employer's
monthly average wage is the mean of its staff's bases. One delivers twins by caesarean section
(O82.0 + O30.0 + Z37.2) at the city's women and children's hospital, which settles it with
the reimbursement service; its settlement event — published once more here, as a replay
would — grants the allowance without application (免申即享), once: 98 + 15 (difficult birth)
+ 15 (an extra baby) = 128 days at the daily wage. It is paid. The other miscarries at 13
weeks: she applies with the weeks (the diagnosis does not say them), it is approved (15 days).
Each step prints its SMS.
Environment: CHS_ENROLLMENT_URL, CHS_MATERNITY_URL, CHS_REIMBURSEMENT_URL, CHS_NOTIFICATION_URL,
CHS_KAFKA_BOOTSTRAP, CHS_TOPIC_PREFIX, CHS_DEMO_TIMEOUT (30 s).
"""

import asyncio
import os
import random
import time
from datetime import date, datetime, timedelta

from aiokafka import AIOKafkaProducer
from demo_support import (
    CHINA,
    WOMEN_CHILDREN_HOSPITAL,
    add_staff,
    as_,
    call,
    call_when_caught_up,
    fail,
    local_client,
    messages_of,
    new_person,
    register_employer,
    run,
    service_url,
    sms_caused,
)

from chs_events.envelope import Envelope
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import REIMBURSEMENT_EVENTS

MATERNITY = service_url("MATERNITY", 8107)
REIMBURSEMENT = service_url("REIMBURSEMENT", 8108)
KAFKA = os.environ.get("CHS_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PREFIX = os.environ.get("CHS_TOPIC_PREFIX", "")
QINGDAO = "370200"


async def publish_again(settled: dict) -> None:
    """The settlement event again, as a replay of the topic would bring it (a new event id, the
    same settlement)."""
    bill, split = settled["bill"], settled["split"]
    event = SettlementCompleted(
        person_id=settled["person_id"],
        settlement_id=settled["settlement_id"],
        insutype=settled["terms"]["insutype"],
        institution_code=bill["institution_code"],
        institution_name=bill["institution_name"],
        institution_level=bill["institution_level"],
        institution_region=bill["institution_region"],
        visit_type=bill["visit_type"],
        admission_date=bill["admission_date"],
        discharge_date=bill["discharge_date"],
        discharge_diagnoses=bill["diagnoses"],
        total_fen=split["total_fen"],
        eligible_fen=split["eligible_fen"],
        ineligible_fen=split["ineligible_fen"],
        pooled_fund_fen=split["pooled_fund_fen"],
        critical_illness_fen=split["critical_illness_fen"],
        medical_assistance_fen=split["medical_assistance_fen"],
        personal_cash_fen=split["personal_cash_fen"],
        invoice_no=bill["invoice_no"],
        maternity=settled["maternity"],
        settled_at=settled["settled_at"],
    )
    record = Envelope(event, source="/chs/reimbursement").to_record()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(
            PREFIX + REIMBURSEMENT_EVENTS,
            key=record.key,
            value=record.value,
            headers=record.headers,
        )
    finally:
        await producer.stop()


def show(a: dict) -> None:
    print(
        f"     allowance {a['allowance_id']} ({a['source']}, {a['status']}): {a['kind']}, "
        f"{a['babies']} baby(ies), difficult {a['difficult_birth']}, {a['leave_days']} days × "
        f"{a['daily_wage_fen']} fen = {a['amount_fen']} fen"
    )


def main() -> None:
    today = datetime.now(CHINA).date()
    print(f"CHS maternity demo run {run}: maternity {MATERNITY}, Kafka {KAFKA}\n")
    client = local_client()
    seen: set[str] = set()

    print("1. A Qingdao employer's HR system adds two employees (增员) with their bases")
    employer = register_employer(client, "青岛", QINGDAO)
    mother = new_person("370202", date(1994, 3, 8), female=True)
    colleague = new_person("370203", date(1996, 9, 21), female=True)
    start = date(today.year - 1, 1, 1)
    [m] = add_staff(client, employer, [mother], 780_000, start)
    [c] = add_staff(client, employer, [colleague], 660_000, start)
    wage = call_when_caught_up(
        client,
        "wage",
        "GET",
        f"{MATERNITY}/employers/{employer['employer_id']}/average-wage",
        200,
        behind=lambda r: r.status_code == 200 and r.json()["staff"] < 2,
    )
    print(
        f"     employer's monthly average wage: ({780_000} + {660_000}) // 2 = "
        f"{wage['monthly_wage_fen']} fen; daily // 30 = {wage['daily_wage_fen']} fen"
    )

    print(
        "\n2. She delivers twins by caesarean; the hospital settles it (一站式结算), and the "
        "settlement is published once more"
    )
    discharged = today - timedelta(days=1)
    settled = call_when_caught_up(
        client,
        "settle",
        "POST",
        f"{REIMBURSEMENT}/settlements",
        201,
        auth=as_(WOMEN_CHILDREN_HOSPITAL),
        json={
            "person_id": m["person_id"],
            "institution_code": "H37020000001",
            "visit_type": "inpatient",
            "admission_date": (discharged - timedelta(days=5)).isoformat(),
            "discharge_date": discharged.isoformat(),
            "diagnoses": ["O82.0", "O30.0", "Z37.2"],
            "eligible_fen": 1_322_000,
            "ineligible_fen": 164_000,
            "maternity": True,
            "invoice_no": f"3702{random.randint(0, 10**12):012d}",
        },
        behind=lambda r: r.status_code == 422 and r.json().get("rule") == "not_enrolled",
    )
    split = settled["split"]
    print(
        f"     settlement {settled['settlement_id']}: total {split['total_fen']} fen, pooled "
        f"fund {split['pooled_fund_fen']} fen, personal cash {split['personal_cash_fen']} fen"
    )
    try:
        asyncio.run(publish_again(settled))
    except Exception as error:  # noqa: BLE001 - the demo says what went wrong and stops
        fail(f"publishing to Kafka at {KAFKA}: {error!r}")
    sms_caused(client, m["person_id"], "maternity.auto_approved", seen)
    time.sleep(2)
    granted = call(
        client, "allowances", "GET", f"{MATERNITY}/persons/{m['person_id']}/allowances", 200
    )["allowances"]
    for a in granted:
        show(a)
    sms = [
        x
        for x in messages_of(client, m["person_id"])
        if x["template_id"] == "maternity.auto_approved"
    ]
    print(f"     allowances: {len(granted)}, SMS: {len(sms)} (the settlement was published twice)")
    if len(granted) != 1 or len(sms) != 1:
        fail(f"expected one allowance and one SMS, found {len(granted)} and {len(sms)}")

    print("\n3. The allowance is paid")
    show(
        call(
            client,
            "pay",
            "POST",
            f"{MATERNITY}/allowances/{granted[0]['allowance_id']}/pay",
            200,
            json={"payment_reference": f"BANK-{run}"},
        )
    )
    sms_caused(client, m["person_id"], "maternity.paid", seen)

    print("\n4. Her colleague miscarries at 13 weeks: she applies with the weeks; approved")
    applied = call(
        client,
        "apply",
        "POST",
        f"{MATERNITY}/applications",
        201,
        json={
            "person_id": c["person_id"],
            "kind": "miscarriage",
            "event_date": (today - timedelta(days=2)).isoformat(),
            "gestational_weeks": 13,
            "reference": f"QDFY-{run}",
        },
    )
    sms_caused(client, c["person_id"], "maternity.applied", seen)
    approved = call(
        client,
        "approve",
        "POST",
        f"{MATERNITY}/applications/{applied['application_id']}/approve",
        200,
        json={"reviewer": "QD-MAT-03"},
    )
    show(approved["allowance"])
    sms_caused(client, c["person_id"], "maternity.approved", seen)
    print("\nDemo complete.")


if __name__ == "__main__":
    main()
