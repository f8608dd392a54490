"""Fund supervision (基金监管) over HTTP against the running platform: a benefit after death.

A Qingdao (青岛, 370200) employer's HR system adds an employee (增员, born 1968); a month's
contribution credits his personal account. He dies; nobody has reported it yet. Days later his
medical insurance card pays 88.00 yuan at a pharmacy: someone else presents it, and the window
cannot tell. Then civil affairs' daily exchange (民政, the province agency's exchange system with
`feeds:upload`) reports the death in a CSV batch (with a mistyped line, refused on its own):
the fraud processor sweeps his recent benefits, finds the debit posted after the date of death
and raises a `benefit_after_death` signal. An auditor of the province (`fraud:review`) finds it
in the worklist, reads its evidence and confirms it: the family pays the 88.00 yuan back (a
second resolution is refused). A signal is a lead, not a verdict: the debit itself was never
refused. Every run uses a new person, so it can run again and again.
Environment: CHS_FEEDS_URL (http://127.0.0.1:8109), CHS_FRAUD_URL (http://127.0.0.1:8110),
CHS_ACCOUNTS_URL (http://127.0.0.1:8106), and demo_support.py's CHS_ENROLLMENT_URL,
CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s), CHS_KAFKA_BOOTSTRAP and
CHS_TOPIC_PREFIX (step 5 reads the fraud processor's lag: it waits, telling how far behind the
processor is, as long as the processor is catching up on its inputs' history).
"""

import time
from datetime import date, datetime, timedelta

import httpx
from demo_support import (
    CHINA,
    ENROLLMENT,
    PHARMACY,
    TOPIC_PREFIX,
    add_staff,
    as_,
    call,
    call_when_caught_up,
    fail,
    local_client,
    month,
    new_person,
    pay_contribution,
    refused,
    register_employer,
    run,
    service_url,
    until_caught_up,
)

from chs_fraud.app import CONSUMER
from chs_fraud.rules import SOURCE_TOPICS

FEEDS = service_url("FEEDS", 8109)
FRAUD = service_url("FRAUD", 8110)
ACCOUNTS = service_url("ACCOUNTS", 8106)
QINGDAO, LAOSHAN = "370200", "370212"
BASE_FEN, EMPLOYER_PART_FEN, PERSONAL_PART_FEN = 650_000, 58_500, 13_000
PHARMACY_CODE = "M370202000001"  # the realm's demo pharmacy (its token's merchant_code)
DEBIT_FEN = 8_800
DAYS_DEAD = 6  # he died this many days before the debit
# The fraud processor's group and inputs: step 5 waits as long as it is catching up on them.
PROCESSOR_GROUP = f"{TOPIC_PREFIX}{CONSUMER}"
PROCESSOR_INPUTS = [f"{TOPIC_PREFIX}{topic}" for topic in SOURCE_TOPICS]


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f} yuan"


def his_signal(client: httpx.Client, person_id: str) -> dict | None:
    """His benefit-after-death signal in the province auditor's worklist, once it is there."""
    response = client.get(
        f"{FRAUD}/signals",
        params={"kind": "benefit_after_death", "region": QINGDAO, "limit": 500},
        headers={"X-Request-Id": f"demo-{run}-worklist"},
    )
    if response.status_code != 200:
        fail(f"GET /signals answered {response.status_code}: {response.text}")
    return next((s for s in response.json()["signals"] if s["person_id"] == person_id), None)


def main() -> None:
    client = local_client()  # the province agency: staff, exchange system and auditor
    today = datetime.now(CHINA).date()
    died = today - timedelta(days=DAYS_DEAD)
    print(
        f"CHS fraud demo run {run}: feeds {FEEDS}, fraud {FRAUD}, accounts {ACCOUNTS}, "
        f"enrollment {ENROLLMENT}\n"
    )

    print(
        "1. A Qingdao employer adds an employee (增员); a month's contribution credits his account"
    )
    employer = register_employer(client, "青岛", QINGDAO)
    start = month(died, back=1)
    holder = new_person(LAOSHAN, date(1968, 3, 8), female=False)
    [item] = add_staff(client, employer, [holder], BASE_FEN, start)
    person_id = item["person_id"]
    print(f"     {holder.described()}: person {person_id} (310 from {start}, {QINGDAO})")
    pay_contribution(
        client, item["enrollment_id"], f"{start:%Y%m}", EMPLOYER_PART_FEN, PERSONAL_PART_FEN
    )
    account_url = f"{ACCOUNTS}/accounts/{person_id}"
    account = call_when_caught_up(
        client,
        "account",
        "GET",
        account_url,
        200,
        behind=lambda r: r.status_code == 404 or r.json().get("balance_fen") == 0,
    )
    print(f"     account {account['account_id']}: balance {yuan(account['balance_fen'])}")

    print(f"\n2. {died}: he dies at home. No one has reported it yet")

    print(f"\n3. {today}: his card pays {yuan(DEBIT_FEN)} at a pharmacy; someone else presents it")
    paid = call(
        client,
        "debit",
        "POST",
        f"{account_url}/debits",
        201,
        auth=as_(PHARMACY),
        headers={"Idempotency-Key": f"POS-{run}-0001"},
        json={
            "merchant_code": PHARMACY_CODE,
            "merchant_kind": "pharmacy",
            "amount_fen": DEBIT_FEN,
            "spender_person_id": person_id,  # the holder's own card: the window sees no one else
        },
    )
    print(
        f"     posting {paid['transaction_id']} at {paid['posted_at']}: balance after "
        f"{yuan(paid['balance_after_fen'])} — nothing is refused"
    )

    print("\n4. Civil affairs' daily exchange (民政) reports the death: a CSV batch")
    check_digit = holder.id_number[-1]
    mistyped = holder.id_number[:-1] + ("0" if check_digit != "0" else "1")  # a wrong one
    batch = "\n".join(
        [
            "id_number,date_of_death,source,region_code",
            f"{holder.id_number},{died},civil_affairs,{LAOSHAN}",
            f"{mistyped},{died},civil_affairs,{LAOSHAN}",
        ]
    )
    reported = time.monotonic()
    report = call(
        client,
        "deaths",
        "POST",
        f"{FEEDS}/deaths/batches",
        201,
        content=batch.encode(),
        headers={"Content-Type": "text/csv"},
    )
    print(
        f"     batch {report['batch_id']}: {report['accepted']} accepted, "
        f"{report['duplicates']} duplicate, {report['rejected']} rejected"
    )
    for line in report["report"]:
        print(
            f"       line {line['line']} {line['id_number']}: {line['outcome']}"
            + (f" ({line['reason']})" if line["reason"] else "")
        )
    if report["accepted"] != 1:
        fail(f"expected his line accepted: {report['report']}")

    print(
        "\n5. The fraud processor sweeps his recent benefits: the debit is after the date of death"
    )
    found = until_caught_up(
        f"a benefit_after_death signal of {person_id}",
        lambda: his_signal(client, person_id),
        PROCESSOR_GROUP,
        PROCESSOR_INPUTS,
    )
    print(f"     in the auditor's worklist {time.monotonic() - reported:.1f} s after the batch")
    signal_url = f"{FRAUD}/signals/{found['signal_id']}"
    signal = call(client, "signal", "GET", signal_url, 200)
    print(
        f"     signal {signal['signal_id']} ({signal['kind']}, {signal['region']}, "
        f"{signal['status']}): {yuan(signal['amount_fen'])} at stake"
    )
    for benefit in signal["benefits"]:
        print(
            f"       evidence: {benefit['kind']} {benefit['reference']} on "
            f"{benefit['service_date']}, {yuan(benefit['amount_fen'])} at "
            f"{benefit['institution_code']} ({benefit['region']})"
        )
    print(f"       record: death on {signal['record_date']} (record {signal['record_reference']})")
    if (signal["amount_fen"], signal["record_date"]) != (DEBIT_FEN, died.isoformat()):
        fail(f"expected {DEBIT_FEN} fen after a death on {died}: {signal}")

    print(f"\n6. The auditor confirms it: the family pays the {yuan(DEBIT_FEN)} back")
    resolved = call(
        client,
        "resolution",
        "POST",
        f"{signal_url}/resolution",
        200,
        json={"outcome": "confirmed", "recovered_fen": DEBIT_FEN, "reason": "家属持卡购药，已追回"},
    )
    print(
        f"     {resolved['status']} by {resolved['resolved_by']} on {resolved['resolved_on']}: "
        f"{yuan(resolved['recovered_fen'])} recovered — {resolved['reason']}"
    )
    again = refused(
        client,
        "POST",
        f"{signal_url}/resolution",
        409,
        json={"outcome": "dismissed", "reason": "再次处理"},
    )
    print(f"     a second resolution: {again['status']} — {again['detail']}")
    print("\nFraud demo complete.")


if __name__ == "__main__":
    main()
