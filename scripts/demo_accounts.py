"""The personal account (职工医保个人账户) over HTTP against the running platform.

A Qingdao (青岛, 370200) employer's HR system adds a father (born 1968) and his daughter (born
1994). The father pays a month's contribution: the accounts service credits his account by the
allocation rule (the whole personal part, and 10 % of the employer part from age 45) and he gets
the income SMS with the balance. He authorizes his daughter (家庭共济); she pays 46.50 yuan at a
pharmacy from his account, the window's retry with the same Idempotency-Key posts nothing more,
and he gets the expense SMS with the balance after. A stranger's spending and an amount above
the balance are refused with a reason. Every run uses new people, so it can run again and again.
Environment: CHS_ACCOUNTS_URL (http://127.0.0.1:8106), and demo_support.py's CHS_ENROLLMENT_URL,
CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s).
"""

from datetime import date

import httpx
from demo_support import (
    ENROLLMENT,
    NOTIFICATION,
    PHARMACY,
    add_staff,
    as_,
    as_person,
    call,
    call_when_caught_up,
    local_client,
    month,
    new_person,
    next_sms,
    pay_contribution,
    refused,
    register_employer,
    run,
    service_url,
)

from chs_events.masking import mask_mobile, mask_name, redact

ACCOUNTS = service_url("ACCOUNTS", 8106)
QINGDAO, LAOSHAN = "370200", "370212"
BASE_FEN, EMPLOYER_PART_FEN, PERSONAL_PART_FEN = 650_000, 58_500, 13_000


def sms(client: httpx.Client, person_id: str, template_id: str) -> None:
    m = next_sms(client, person_id, template_id)
    print(
        f"     SMS {template_id} from {m['sender']} to {m['mobile_masked']} ({m['status']}):\n"
        f"       {redact(m['text'])}"
    )


def main() -> None:
    client = local_client()
    print(
        f"CHS accounts demo run {run}: accounts {ACCOUNTS}, enrollment {ENROLLMENT}, "
        f"notification {NOTIFICATION}\n"
    )
    print("1. A Qingdao employer adds a father and his daughter (增员)")
    employer = register_employer(client, "青岛", QINGDAO)
    start = month(date.today(), back=1)
    father = new_person(LAOSHAN, date(1968, 3, 8), female=False)
    daughter = new_person(LAOSHAN, date(1994, 9, 1), female=True)
    father_item, daughter_item = add_staff(client, employer, [father, daughter], BASE_FEN, start)
    for person, item in ((father, father_item), (daughter, daughter_item)):
        print(
            f"     {mask_name(person.name)} {mask_mobile(person.mobile)}: person "
            f"{item['person_id']} (310, {QINGDAO})"
        )
    account_url = f"{ACCOUNTS}/accounts/{father_item['person_id']}"

    print("\n2. The father pays a month: his account is credited by the allocation rule")
    pay_contribution(
        client, father_item["enrollment_id"], f"{start:%Y%m}", EMPLOYER_PART_FEN, PERSONAL_PART_FEN
    )
    account = call_when_caught_up(
        client,
        "account",
        "GET",
        account_url,
        200,
        behind=lambda r: r.status_code == 404 or r.json().get("balance_fen") == 0,
    )
    print(f"     account {account['account_id']}: balance {account['balance_fen']} fen")
    sms(client, father_item["person_id"], "account.credited")

    print("\n3. Family mutual aid (家庭共济): he authorizes his daughter, she pays at a pharmacy")
    call(
        client,
        "family",
        "POST",
        f"{account_url}/family",
        201,
        json={"member_person_id": daughter_item["person_id"], "relation": "child"},
        auth=as_person(father_item["person_id"]),  # he, signed in to the public app
    )
    debit = {
        "merchant_code": "M370202000001",
        "merchant_kind": "pharmacy",
        "amount_fen": 4650,
        "spender_person_id": daughter_item["person_id"],
    }
    key = {"Idempotency-Key": f"POS-{run}-0001"}
    pharmacy = as_(PHARMACY)
    paid = call(
        client,
        "debit",
        "POST",
        f"{account_url}/debits",
        201,
        json=debit,
        headers=key,
        auth=pharmacy,
    )
    print(f"     paid {paid['amount_fen']} fen, balance after {paid['balance_after_fen']} fen")
    again = call(
        client,
        "debit-retry",
        "POST",
        f"{account_url}/debits",
        200,
        json=debit,
        headers=key,
        auth=pharmacy,
    )
    print(f"     the window's retry: the same posting {again['transaction_id']}, nothing more")
    sms(client, father_item["person_id"], "account.debited")

    print("\n4. Refusals, with a reason")
    stranger = refused(
        client,
        "POST",
        f"{account_url}/debits",
        403,
        auth=pharmacy,
        headers={"Idempotency-Key": f"POS-{run}-0002"},
        json={**debit, "spender_person_id": "p" + "0" * 32},
    )
    print(f"     a stranger: {stranger['reason']} — {stranger['detail']}")
    short = refused(
        client,
        "POST",
        f"{account_url}/debits",
        409,
        auth=pharmacy,
        headers={"Idempotency-Key": f"POS-{run}-0003"},
        json={**debit, "amount_fen": 10_000_000},
    )
    print(f"     too much: {short['reason']} — {short['detail']}")
    print("\nAccounts demo complete.")


if __name__ == "__main__":
    main()
