"""Relationship transfer (关系转移接续) over HTTP against the running platform.

A Qingdao (青岛, 370200) employer's HR system adds two employees. The first moves her employee
insurance (310) to Jinan (济南, 370100): within the province it completes at once, and
enrollment moves her pooling region. The second, after two months of contributions, moves to
Suzhou (苏州, 320500): across provinces the request waits for the out-region's confirmation
(months paid) and the in-region's completion; the balance moved is the one the accounts ledger
holds when the transfer leaves, as the ledger reports it back to transfer. Each step
prints the SMS it caused. Every run uses new people, so it can run again and again.
Environment: CHS_TRANSFER_URL (http://127.0.0.1:8105), and demo_support.py's CHS_ENROLLMENT_URL,
CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s).
"""

import random
from datetime import date, timedelta

import httpx
from demo_support import (
    ENROLLMENT,
    JIANGSU_AGENCY,
    NOTIFICATION,
    TRANSFER,
    add_staff,
    as_,
    as_person,
    call,
    call_when_caught_up,
    local_client,
    new_person,
    next_sms,
    pay_contribution,
    register_employer,
    run,
    until,
)

from chs_events.masking import mask_mobile, mask_name, redact

QINGDAO, LAOSHAN, JINAN, SUZHOU = "370200", "370212", "370100", "320500"
BASE_FEN, EMPLOYER_PART_FEN, PERSONAL_PART_FEN = 650_000, 58_500, 13_000


def sms(client: httpx.Client, person_id: str, template_id: str) -> None:
    """Waits for the SMS of one step and prints it."""
    m = next_sms(client, person_id, template_id)
    print(
        f"     SMS {template_id} from {m['sender']} to {m['mobile_masked']} ({m['status']}):\n"
        f"       {redact(m['text'])}"
    )


def request_transfer(client: httpx.Client, step: str, person_id: str, to_region: str) -> dict:
    """Transfer learns the enrollment from the broker: a 422 'no active employee' right after
    the enrollment only means its read model has not caught up yet."""
    return call_when_caught_up(
        client,
        step,
        "POST",
        f"{TRANSFER}/transfers",
        201,
        json={"person_id": person_id, "to_region": to_region},
        behind=lambda response: (
            response.status_code == 422 and "no active employee" in response.text
        ),
    )


def pooling_region(client: httpx.Client, item: dict) -> str:
    """As the person reads it in the public app (once she moved out of the province, the
    Shandong agency serves her no more)."""
    person = call(
        client,
        "person",
        "GET",
        f"{ENROLLMENT}/persons/{item['person_id']}",
        200,
        auth=as_person(item["person_id"]),
    )
    return next(
        e["pooling_region"]
        for e in person["enrollments"]
        if e["enrollment_id"] == item["enrollment_id"]
    )


def wait_region(client: httpx.Client, item: dict, region: str) -> None:
    until(
        f"pooling region {region} in enrollment",
        lambda: region if pooling_region(client, item) == region else None,
        timeout=10,
    )
    print(f"     enrollment {item['enrollment_id']} now pools in {region}")


def show(transfer: dict) -> None:
    extra = ""
    if transfer["contribution_months"] is not None:
        extra = f", {transfer['contribution_months']} months paid"
    if transfer["account_balance_fen"] is not None:
        extra += f", the ledger moved {transfer['account_balance_fen']} fen"
    print(
        f"     transfer {transfer['transfer_id']} {transfer['from_region']} → "
        f"{transfer['to_region']}: {transfer['status']}{extra}"
    )


def main() -> None:
    client = local_client()
    print(
        f"CHS transfer demo run {run}: transfer {TRANSFER}, enrollment {ENROLLMENT}, "
        f"notification {NOTIFICATION}\n"
    )
    print("1. A Qingdao employer adds two employees (增员)")
    employer = register_employer(client, "青岛", QINGDAO)
    start = date.today().replace(day=1) - timedelta(days=40)
    start = start.replace(day=1)
    people = [
        new_person(LAOSHAN, date(1985, 1, 1) + timedelta(days=random.randrange(5000)), female=True)
        for _ in range(2)
    ]
    added = add_staff(client, employer, people, BASE_FEN, start)
    to_jinan, to_suzhou = added
    for person, item in zip(people, added, strict=True):
        print(
            f"     {mask_name(person.name)} {mask_mobile(person.mobile)}: person "
            f"{item['person_id']}, enrollment {item['enrollment_id']} (310, {QINGDAO})"
        )
    for offset in range(2):
        period = f"{(start + timedelta(days=31 * offset)):%Y%m}"
        pay_contribution(
            client, to_suzhou["enrollment_id"], period, EMPLOYER_PART_FEN, PERSONAL_PART_FEN
        )

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
    show(
        call(
            client,
            "completion",
            "POST",
            f"{url}/completion",
            200,
            json={},
            auth=as_(JIANGSU_AGENCY),  # the other province's agency
        )
    )
    wait_region(client, to_suzhou, SUZHOU)
    sms(client, to_suzhou["person_id"], "transfer.completed")
    print("\nTransfer demo complete.")


if __name__ == "__main__":
    main()
