"""Reimbursement end to end: enrollment's and remote-care's events feed reimbursement's read
models; a hospital's direct settlement of a 低保 resident returns the three-tier split in the
request and reaches the person as an SMS (outbox relay → progress-notice processor →
notification); the same invoice claimed by hand afterwards is rejected with its SMS; a claim for
care under a real remote-care filing is approved, paid and told. Each request is made by its
caller: the agency registers, enrolls and sets the assisted groups and pays; the hospital
settles; the person files, claims and reads her messages."""

import random
from contextlib import AsyncExitStack
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.people import Person
from tests.support.broker import until

TAG = "【中国医疗保障】"
QINGDAO, SHINAN, SANYA = "370200", "370202", "460200"


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
async def agency(platform):
    """Agency staff of the province (every business scope) at enrollment and reimbursement."""
    async with (
        platform.client("enrollment", kind="agency") as enrollment,
        platform.client("reimbursement", kind="agency") as reimbursement,
    ):
        yield enrollment, reimbursement


@pytest.fixture
async def hospital(platform):
    """The HIS of 青岛大学附属医院 (H37020200017), which the bills name."""
    async with platform.client("reimbursement", kind="institution") as client:
        yield client


@pytest.fixture
async def as_person(platform):
    """``as_person(person_id, service)``: a client of the service for the person themself."""
    async with AsyncExitStack() as stack:

        async def client_of(person_id: str, service: str) -> httpx.AsyncClient:
            client = platform.client(service, kind="person", person_id=person_id)
            return await stack.enter_async_context(client)

        yield client_of


async def sms_of(notification, person_id: str, template_id: str) -> dict:
    async def arrived():
        response = await notification.get(f"/persons/{person_id}/messages")
        return next(
            (
                m
                for m in response.json()["messages"]
                if m["template_id"] == template_id and m["status"] in ("sent", "delivered")
            ),
            None,
        )

    return await until(arrived, timeout=60, interval=0.2)


async def once_known(call, timeout: float = 60.0) -> httpx.Response:
    """Reimbursement learns of the enrollment from its events: retry while it answers
    ``not_enrolled``."""

    async def answered():
        response = await call()
        refused = response.status_code == 422 and response.json().get("rule") == "not_enrolled"
        return None if refused else response

    return await until(answered, timeout=timeout, interval=0.2)


async def test_settlement_sms_then_the_same_invoice_claimed_is_rejected(
    platform, agency, hospital, as_person
):
    enrollment, reimbursement = agency
    rng = random.Random()
    person = Person.make(rng, born=date(1975, 4, 2), region=SHINAN)
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]
    enrolled = await enrollment.post(
        f"/persons/{person_id}/enrollments",
        json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2020-01-01"},
    )
    assert enrolled.status_code == 201, enrolled.text
    person_reimbursement = await as_person(person_id, "reimbursement")
    remote_care = await as_person(person_id, "remote_care")
    notification = await as_person(person_id, "notification")

    async def groups_set():  # the agency serves her once reimbursement knows her region
        response = await reimbursement.put(
            f"/persons/{person_id}/assisted-groups", json={"groups": ["dibao"]}
        )
        return None if response.status_code == 403 else response

    groups = await until(groups_set, timeout=60, interval=0.2)
    assert groups.status_code == 200, groups.text

    # she will spend the winters in Sanya: a long-term filing through the remote-care service
    filed = await until(lambda: _filed(remote_care, person_id), timeout=60, interval=0.3)
    assert filed.status_code == 201, filed.text

    discharged = date(2026, 11, 18)
    assert discharged < today()
    bill = {
        "person_id": person_id,
        "institution_code": "H37020200017",
        "visit_type": "inpatient",
        "admission_date": (discharged - timedelta(days=8)).isoformat(),
        "discharge_date": discharged.isoformat(),
        "diagnoses": ["C34.9"],
        "eligible_fen": 8_000_000,
        "ineligible_fen": 500_000,
        "invoice_no": f"3702{rng.randrange(10**12):012d}",
    }
    settled = await once_known(lambda: hospital.post("/settlements", json=bill))
    assert settled.status_code == 201, settled.text
    split = settled.json()["split"]
    assert (
        split["pooled_fund_fen"],
        split["critical_illness_fen"],
        split["medical_assistance_fen"],
        split["personal_cash_fen"],
    ) == (5_135_000, 1_374_750, 1_043_175, 947_075)

    message = await sms_of(notification, person_id, "reimbursement.settled")
    assert message["text"] == (
        f"{TAG}尊敬的{person.name}，您{discharged.isoformat()}在青岛大学附属医院的医疗费用已结算："
        "总费用85000.00元，基本医保统筹支付51350.00元，大病保险支付13747.50元，"
        "医疗救助支付10431.75元，个人支付9470.75元。"
    )

    claimed = await person_reimbursement.post("/claims", json=bill)
    assert claimed.status_code == 201, claimed.text
    assert (claimed.json()["status"], claimed.json()["rule"]) == (
        "rejected",
        "invoice_already_reimbursed",
    )
    rejected = await sms_of(notification, person_id, "reimbursement.claim_rejected")
    assert bill["invoice_no"] in rejected["text"] and "不能重复报销" in rejected["text"]

    # the long-term filing for Sanya (made at the start) covers a visit there today
    sanya_bill = {
        **bill,
        "institution_code": "H46020000003",
        "admission_date": today().isoformat(),
        "discharge_date": today().isoformat(),
        "visit_type": "outpatient",
        "eligible_fen": 120_000,
        "ineligible_fen": 0,
        "invoice_no": f"4602{rng.randrange(10**12):012d}",
    }

    async def approved():
        response = await person_reimbursement.post("/claims", json=sanya_bill)
        claim = response.json()
        if claim.get("rule") == "no_remote_care_filing":  # the filing is on its way
            sanya_bill["invoice_no"] = f"4602{rng.randrange(10**12):012d}"
            return None
        return claim

    claim = await until(approved, timeout=60, interval=0.3)
    assert (claim["status"], claim["terms"]["basis"]) == ("approved", "filing"), claim
    paid = await reimbursement.post(
        f"/claims/{claim['claim_id']}/pay", json={"payment_reference": "BANK-E2E-1"}
    )
    assert paid.status_code == 200, paid.text
    paid_sms = await sms_of(notification, person_id, "reimbursement.claim_paid")
    assert sanya_bill["invoice_no"] in paid_sms["text"]


async def _filed(remote_care, person_id: str) -> httpx.Response | None:
    response = await remote_care.post(
        f"/persons/{person_id}/filings",
        json={
            "filing_type": "long_term",
            "category": "relocated_retiree",
            "destination_region": SANYA,
            "commitment": True,
        },
    )
    if response.status_code == 422 and response.json().get("rule") == "active_enrollment_required":
        return None
    return response
