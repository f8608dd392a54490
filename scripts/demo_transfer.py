"""Relationship transfer (关系转移接续) over HTTP against the running platform.

A Qingdao (青岛, 370200) employer's HR system adds two employees. The first moves her employee
insurance (310) to Jinan (济南, 370100): within the province it completes at once, and
enrollment moves her pooling region. The second, after two months of contributions, moves to
Suzhou (苏州, 320500): across provinces the request waits for the out-region's confirmation
(months paid, personal-account balance to move) and the in-region's completion. Each step
prints the SMS it caused. Every run uses new people, so it can run again and again.
Environment: CHS_TRANSFER_URL (http://127.0.0.1:8105), and demo.py's CHS_ENROLLMENT_URL,
CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s).
"""
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo import (  # noqa: E402
    ADMIN_TOKEN,
    ENROLLMENT,
    NOTIFICATION,
    TIMEOUT,
    call,
    fail,
    fake,
    id_number,
    messages_of,
    run,
)

from chs_events.masking import mask_mobile, mask_name, redact  # noqa: E402

TRANSFER = os.environ.get("CHS_TRANSFER_URL", "http://127.0.0.1:8105").rstrip("/")
QINGDAO, JINAN, SUZHOU = "370200", "370100", "320500"
BASE_FEN, EMPLOYER_PART_FEN, PERSONAL_PART_FEN = 650_000, 58_500, 13_000


def until(what: str, check, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := check()) is not None:
            return found
        time.sleep(0.3)
    fail(f"{what} not within {timeout:.0f} s")


def sms(client: httpx.Client, person_id: str, template_id: str) -> None:
    """Waits for the SMS of one step and prints it."""
    def sent():
        return next((m for m in messages_of(client, person_id) if m["template_id"] == template_id
                     and m["status"] in ("sent", "delivered")), None)

    m = until(f"SMS {template_id}", sent)
    print(f"     SMS {template_id} from {m['sender']} to {m['mobile_masked']} ({m['status']}):\n"
          f"       {redact(m['text'])}")


def request_transfer(client: httpx.Client, step: str, person_id: str, to_region: str) -> dict:
    """Transfer learns the enrollment from the broker: a 422 'no active employee' right after
    the enrollment only means its read model has not caught up yet."""
    def accepted():
        response = client.post(f"{TRANSFER}/transfers", headers={
            "X-Request-Id": f"demo-{run}-{step}"}, json={"person_id": person_id,
                                                         "to_region": to_region})
        if response.status_code == 422 and "no active employee" in response.text:
            return None
        if response.status_code != 201:
            fail(f"POST /transfers answered {response.status_code}: {redact(response.text)}")
        print(f"  POST /transfers → 201 (X-Request-Id demo-{run}-{step})")
        return response.json()

    return until("transfer's read model of the enrollment", accepted)


def pooling_region(client: httpx.Client, item: dict) -> str:
    person = call(client, "person", "GET", f"{ENROLLMENT}/persons/{item['person_id']}", 200)
    return next(e["pooling_region"] for e in person["enrollments"]
                if e["enrollment_id"] == item["enrollment_id"])


def wait_region(client: httpx.Client, item: dict, region: str) -> None:
    until(f"pooling region {region} in enrollment",
          lambda: region if pooling_region(client, item) == region else None, timeout=10)
    print(f"     enrollment {item['enrollment_id']} now pools in {region}")


def show(transfer: dict) -> None:
    extra = ""
    if transfer["contribution_months"] is not None:
        extra = (f", {transfer['contribution_months']} months paid, balance to move "
                 f"{transfer['account_balance_fen']} fen")
    print(f"     transfer {transfer['transfer_id']} {transfer['from_region']} → "
          f"{transfer['to_region']}: {transfer['status']}{extra}")


def main() -> None:
    client = httpx.Client(timeout=10, trust_env=False)
    print(f"CHS transfer demo run {run}: transfer {TRANSFER}, enrollment {ENROLLMENT}, "
          f"notification {NOTIFICATION}\n")
    print("1. A Qingdao employer adds two employees (增员)")
    employer = call(client, "employer", "POST", f"{ENROLLMENT}/employers", 201,
                    headers={"X-Admin-Token": ADMIN_TOKEN},
                    json={"name": f"青岛{fake.company()}", "region_code": QINGDAO})
    start = date.today().replace(day=1) - timedelta(days=40)
    start = start.replace(day=1)
    people = []
    for _ in range(2):
        born = date(1985, 1, 1) + timedelta(days=random.randrange(5000))
        people.append({"id_number": id_number(born, female=True), "name": fake.name_female(),
                       "mobile": f"1385321{random.randint(0, 9999):04d}", "region_code": "370212",
                       "contribution_base_fen": BASE_FEN, "start_date": start.isoformat()})
    added = call(client, "staff-add", "POST",
                 f"{ENROLLMENT}/employers/{employer['employer_id']}/staff/batch-add", 200,
                 headers={"X-API-Key": employer["api_key"]}, json={"items": people})
    to_jinan, to_suzhou = added["items"]
    for person, item in zip(people, added["items"]):
        print(f"     {mask_name(person['name'])} {mask_mobile(person['mobile'])}: person "
              f"{item['person_id']}, enrollment {item['enrollment_id']} (310, {QINGDAO})")
    for offset in range(2):
        period = f"{(start + timedelta(days=31 * offset)):%Y%m}"
        call(client, f"contribution-{period}", "POST", f"{ENROLLMENT}/contributions", 201, json={
            "payment_id": f"PAY-{run}-{period}", "enrollment_id": to_suzhou["enrollment_id"],
            "period": period, "amount_fen": EMPLOYER_PART_FEN + PERSONAL_PART_FEN,
            "employer_part_fen": EMPLOYER_PART_FEN, "personal_part_fen": PERSONAL_PART_FEN})

    print("\n2. The first moves to Jinan (within Shandong): completed at once")
    show(request_transfer(client, "transfer-jinan", to_jinan["person_id"], JINAN))
    wait_region(client, to_jinan, JINAN)
    sms(client, to_jinan["person_id"], "transfer.completed")

    print("\n3. The second moves to Suzhou (Jiangsu): requested")
    requested = request_transfer(client, "transfer-suzhou", to_suzhou["person_id"], SUZHOU)
    show(requested)
    sms(client, to_suzhou["person_id"], "transfer.requested")
    url = f"{TRANSFER}/transfers/{requested['transfer_id']}"

    print("\n4. Qingdao (the out-region) confirms what moves")
    show(call(client, "out-confirmation", "POST", f"{url}/out-confirmation", 200, json={}))
    sms(client, to_suzhou["person_id"], "transfer.out_confirmed")

    print("\n5. Suzhou (the in-region) completes it")
    show(call(client, "completion", "POST", f"{url}/completion", 200, json={}))
    wait_region(client, to_suzhou, SUZHOU)
    sms(client, to_suzhou["person_id"], "transfer.completed")
    print("\nTransfer demo complete.")


if __name__ == "__main__":
    main()
