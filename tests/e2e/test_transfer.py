"""Relationship transfer (关系转移接续) end to end: an employee enrolled by a Qingdao employer moves
her insurance; transfer's read model follows enrollment, enrollment moves the pooling region when
the transfer completes, the ledger moves the personal-account balance it holds and transfer
shows the amount it reported, and every step reaches her as an SMS."""

from datetime import date

import pytest

from tests.e2e.people import Person, pay, sms_of, staff_in_qingdao
from tests.support.broker import until

TAG = "【中国医疗保障】"
QINGDAO, JINAN, SUZHOU = "370200", "370100", "320500"


def as_person(platform, person_id: str):
    """The person themself, through the public service apps."""
    return platform.client("transfer", kind="person", person_id=person_id)


@pytest.fixture
async def qingdao(platform):
    """The out region's agency system (转出地经办机构), with transfer:confirm."""
    async with platform.client("transfer", kind="agency", region=QINGDAO) as client:
        yield client


@pytest.fixture
async def suzhou(platform):
    """The in region's agency system (转入地经办机构), with transfer:confirm."""
    async with platform.client("transfer", kind="agency", region=SUZHOU) as client:
        yield client


async def credited(accounts, person_id: str, count: int) -> dict:
    """The account once ``count`` contributions are credited."""

    async def reached():
        response = await accounts.get(f"/accounts/{person_id}")
        if response.status_code != 200:
            return None
        kinds = [t["kind"] for t in response.json()["transactions"]]
        return response.json() if kinds.count("credit") == count else None

    return await until(reached, timeout=30, interval=0.2)


async def reported(platform, person_id: str, transfer_id: str, fen: int) -> dict:
    """The transfer once it shows the ``fen`` the ledger reported it moved: four hops (transfer's
    relay, accounts' ledger group, its relay, transfer's ledger group), as long as the other
    waits of these tests on busy cores."""

    async def shown():
        async with as_person(platform, person_id) as mine:
            body = (await mine.get(f"/transfers/{transfer_id}")).json()
        return body if body["account_balance_fen"] == fen else None

    return await until(shown, timeout=60, interval=0.3)


async def messages_of(notification, person_id: str) -> list[dict]:
    return (await notification.get(f"/persons/{person_id}/messages")).json()["messages"]


async def employee_in_qingdao(enrollment, rng, person: Person, months: int = 0) -> dict:
    [item] = await staff_in_qingdao(enrollment, person)
    for month in range(1, months + 1):
        await pay(enrollment, rng, item, period=f"2026{month:02d}")
    return item


async def request_transfer(platform, person_id: str, to_region: str) -> dict:
    """The person asks; transfer learns the enrollment from the broker: retry while it does not
    know it yet."""

    async def accepted():
        response = await mine.post(
            "/transfers", json={"person_id": person_id, "to_region": to_region}
        )
        if response.status_code == 422 and "no active employee" in response.json()["detail"]:
            return None
        assert response.status_code == 201, response.text
        return response.json()

    async with as_person(platform, person_id) as mine:
        return await until(accepted, timeout=30, interval=0.3)


async def pooling_region(enrollment, item: dict) -> str:
    person = (await enrollment.get(f"/persons/{item['person_id']}")).json()
    return next(
        e["pooling_region"]
        for e in person["enrollments"]
        if e["enrollment_id"] == item["enrollment_id"]
    )


async def region_becomes(enrollment, item: dict, region: str, timeout: float = 10.0) -> None:
    async def moved():
        return await pooling_region(enrollment, item) == region

    await until(moved, timeout=timeout, interval=0.2)


async def test_qingdao_to_jinan_completes_at_once_and_moves_the_pooling_region(
    platform, enrollment, notification, accounts, pharmacy, rng
):
    person = Person.make(rng, born=date(1990, 5, 17))
    item = await employee_in_qingdao(enrollment, rng, person, months=2)
    assert await pooling_region(enrollment, item) == QINGDAO
    # what the ledger holds after a pharmacy debit is what moves
    held = (await credited(accounts, item["person_id"], 2))["balance_fen"]
    spent = await pharmacy.post(
        f"/accounts/{item['person_id']}/debits",
        json={
            "merchant_code": "P370200001",
            "merchant_kind": "pharmacy",
            "amount_fen": 1200,
            "spender_person_id": item["person_id"],
        },
        headers={"Idempotency-Key": f"POS-{rng.randrange(10**12)}"},
    )
    assert spent.status_code == 201, spent.text
    balance = held - 1200

    done = await request_transfer(platform, item["person_id"], JINAN)
    assert done["status"] == "completed" and done["cross_province"] is False
    assert (done["from_region"], done["to_region"]) == (QINGDAO, JINAN)
    assert done["account_balance_fen"] is None  # the ledger's to report
    await reported(platform, item["person_id"], done["transfer_id"], balance)
    account = (await accounts.get(f"/accounts/{item['person_id']}")).json()
    assert (account["pooling_region"], account["balance_fen"]) == (JINAN, balance)
    assert account["transactions"][0]["kind"] == "transfer_within"

    await region_becomes(enrollment, item, JINAN, timeout=10)
    sms = await sms_of(notification, item["person_id"], "transfer.completed")
    assert sms["text"] == (
        f"{TAG}尊敬的{person.name}，您的职工基本医疗保险关系已由青岛市转入济南市，"
        f"{done['completed_on']}起在济南市参保，可按规定享受医保待遇。"
    )
    # within the province the completion is the only transfer SMS
    templates = [m["template_id"] for m in await messages_of(notification, item["person_id"])]
    assert templates.count("transfer.completed") == 1
    assert "transfer.requested" not in templates
    # Jinan is now her own pooling region
    async with as_person(platform, item["person_id"]) as mine:
        again = await mine.post(
            "/transfers", json={"person_id": item["person_id"], "to_region": JINAN}
        )
    assert again.status_code == 422, again.text


async def test_qingdao_to_suzhou_walks_its_states_with_an_sms_at_each_step(
    platform, enrollment, notification, qingdao, suzhou, accounts, rng
):
    person = Person.make(rng)
    item = await employee_in_qingdao(enrollment, rng, person, months=2)
    person_id = item["person_id"]

    requested = await request_transfer(platform, person_id, SUZHOU)
    assert (requested["status"], requested["cross_province"]) == ("requested", True)
    sms = await sms_of(notification, person_id, "transfer.requested")
    assert sms["text"].startswith(TAG)
    assert "由青岛市转往苏州市" in sms["text"] and person.name in sms["text"]

    # Her contributions followed her enrollment on the same partition, moments apart: transfer's
    # read model counted them long before the requested SMS (seconds after the request) arrived.
    url = f"/transfers/{requested['transfer_id']}"
    confirmed = await qingdao.post(f"{url}/out-confirmation", json={})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "out_confirmed"
    assert confirmed.json()["contribution_months"] == 2
    assert confirmed.json()["account_balance_fen"] is None  # the ledger's, at completion
    sms = await sms_of(notification, person_id, "transfer.out_confirmed")
    assert "累计缴费2个月" in sms["text"] and "个人账户余额届时随之转移" in sms["text"]
    assert await pooling_region(enrollment, item) == QINGDAO  # nothing moved yet
    held = (await credited(accounts, person_id, 2))["balance_fen"]

    # Suzhou (another province) takes her over; it states no balance: the ledger moves its own
    stated = await suzhou.post(
        f"{url}/completion",
        json={"account_balance_fen": 10**9, "platform_reference": "ZY2026112200001"},
    )
    assert stated.status_code == 403, stated.text
    completed = await suzhou.post(f"{url}/completion", json={})
    assert completed.status_code == 200, completed.text
    await region_becomes(enrollment, item, SUZHOU, timeout=10)
    sms = await sms_of(notification, person_id, "transfer.completed")
    assert "已由青岛市转入苏州市" in sms["text"]
    await reported(platform, person_id, requested["transfer_id"], held)
    sms = await sms_of(notification, person_id, "account.transferred_out")
    assert f"个人账户余额{held // 100}.{held % 100:02d}元" in sms["text"]


async def test_a_rejected_transfer_tells_the_reason(
    platform, enrollment, notification, qingdao, rng
):
    person = Person.make(rng)
    item = await employee_in_qingdao(enrollment, rng, person)
    requested = await request_transfer(platform, item["person_id"], SUZHOU)
    rejected = await qingdao.post(
        f"/transfers/{requested['transfer_id']}/rejection",
        json={"by": "out_region", "reason_code": "arrears_unpaid"},
    )
    assert rejected.status_code == 200, rejected.text
    sms = await sms_of(notification, item["person_id"], "transfer.rejected")
    assert sms["text"] == (
        f"{TAG}尊敬的{person.name}，您由青岛市转往苏州市的医保关系转移未能办理，"
        "原因：存在欠缴月份，需补缴后再办理。如有疑问请咨询当地医保经办机构。"
    )
    assert await pooling_region(enrollment, item) == QINGDAO
