"""The personal account (职工医保个人账户) end to end: an employee enrolled by a Qingdao employer
pays a contribution, the accounts service credits her account by the allocation rule and she
reads the balance in an SMS; a parent authorizes his child (家庭共济), the child pays at a
pharmacy from the parent's account and the parent reads the expense and the balance after."""

from datetime import date

from tests.e2e.people import Person, pay, sms_of, staff_in_qingdao
from tests.support.broker import until

TAG = "【中国医疗保障】"


def as_holder(platform, person_id: str):
    """The account's holder, through the public service apps."""
    return platform.client("accounts", kind="person", person_id=person_id)


async def balance_becomes(accounts, person_id: str, fen: int) -> dict:
    async def reached():
        response = await accounts.get(f"/accounts/{person_id}")
        return (
            response.json()
            if response.status_code == 200 and response.json()["balance_fen"] == fen
            else None
        )

    return await until(reached, timeout=30, interval=0.2)


async def test_a_contribution_credits_the_account_and_the_sms_tells_the_balance(
    enrollment, notification, accounts, rng
):
    person = Person.make(rng, born=date(1990, 5, 17))  # 36: the 35–44 band, 5 % of 585.00
    [item] = await staff_in_qingdao(enrollment, person)
    await pay(enrollment, rng, item)

    account = await balance_becomes(accounts, item["person_id"], 13000 + 2925)
    assert account["status"] == "open" and account["pooling_region"] == "370200"
    assert [t["kind"] for t in account["transactions"]] == ["credit"]
    sms = await sms_of(notification, item["person_id"], "account.credited")
    assert sms["text"].startswith(f"{TAG}尊敬的{person.name}，您的职工医保个人账户")
    assert sms["text"].endswith("划入159.25元（2026年10月缴费），当前余额159.25元。")


async def test_a_child_pays_at_a_pharmacy_from_the_parents_account(
    platform, enrollment, notification, accounts, pharmacy, rng
):
    parent = Person.make(rng, born=date(1968, 3, 8))  # 58: the 45+ band, 10 % of 585.00
    child = Person.make(rng, born=date(1994, 9, 1))
    parent_item, child_item = await staff_in_qingdao(enrollment, parent, child)
    await pay(enrollment, rng, parent_item)
    await balance_becomes(accounts, parent_item["person_id"], 18850)
    url = f"/accounts/{parent_item['person_id']}"

    # the child is no one to this account yet
    refused = await pharmacy.post(
        f"{url}/debits",
        headers={"Idempotency-Key": "POS-E2E-0000"},
        json={
            "merchant_code": "P370200001",
            "merchant_kind": "pharmacy",
            "amount_fen": 4650,
            "spender_person_id": child_item["person_id"],
        },
    )
    assert refused.status_code == 403 and refused.json()["reason"] == "spender_not_authorized"

    async with as_holder(platform, parent_item["person_id"]) as holder:
        authorized = await holder.post(
            f"{url}/family",
            json={"member_person_id": child_item["person_id"], "relation": "child"},
        )
    assert authorized.status_code == 201, authorized.text
    key = f"POS-{rng.randrange(10**12)}"
    body = {
        "merchant_code": "P370200001",
        "merchant_kind": "pharmacy",
        "amount_fen": 4650,
        "spender_person_id": child_item["person_id"],
    }
    spent = await pharmacy.post(f"{url}/debits", json=body, headers={"Idempotency-Key": key})
    assert spent.status_code == 201, spent.text
    assert spent.json()["balance_after_fen"] == 14200
    again = await pharmacy.post(f"{url}/debits", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json() == spent.json()

    sms = await sms_of(notification, parent_item["person_id"], "account.debited")
    assert sms["text"].startswith(f"{TAG}尊敬的{parent.name}，您的职工医保个人账户")
    assert sms["text"].endswith("由家庭共济成员（子女）在定点药店支出46.50元，当前余额142.00元。")
    async with as_holder(platform, parent_item["person_id"]) as holder:
        assert (await holder.get(url)).json()["balance_fen"] == 14200
    # one expense, one SMS
    messages = (await notification.get(f"/persons/{parent_item['person_id']}/messages")).json()[
        "messages"
    ]
    assert [m["template_id"] for m in messages].count("account.debited") == 1
