"""Remote-care filing end to end: enrollment's events feed remote-care's read model, a filing is
approved at once and reaches the insured person as an SMS through the outbox relay, the
progress-notice processor and notification's dispatcher."""

import random
import time
from contextlib import AsyncExitStack
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.people import Person
from tests.support.broker import until

TAG = "【中国医疗保障】"
JINAN, LIXIA, SANYA, SHANGHAI = "370100", "370102", "460200", "310000"
LONG_TERM_SANYA = {
    "filing_type": "long_term",
    "category": "relocated_retiree",
    "destination_region": SANYA,
    "commitment": True,
}


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def rng():
    return random.Random()


@pytest.fixture
async def remote_care_as(platform):
    """Clients of remote care as the caller named (``kind=`` and claims): the person files for
    themself, a hospital checks coverage."""
    async with AsyncExitStack() as clients:

        async def client(**caller) -> httpx.AsyncClient:
            return await clients.enter_async_context(platform.client("remote_care", **caller))

        yield client


async def sms_of(notification, person_id: str, template_id: str, timeout: float = 30.0) -> dict:
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

    return await until(arrived, timeout=timeout, interval=0.2)


async def jinan_resident(enrollment, rng, born: date) -> tuple[Person, str]:
    person = Person.make(rng, born=born, region=LIXIA)
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]
    enrolled = await enrollment.post(
        f"/persons/{person_id}/enrollments",
        json={"insutype": "390", "pooling_region": JINAN, "start_date": "2020-01-01"},
    )
    assert enrolled.status_code == 201, enrolled.text
    return person, person_id


async def file_when_enrolled(
    remote_care, person_id: str, body: dict, timeout: float = 30.0
) -> httpx.Response:
    """Remote care learns of the enrollment from its events: retry until its read model has it
    (a refusal for no active enrollment), then answer whatever the filing gets."""

    async def answered():
        response = await remote_care.post(f"/persons/{person_id}/filings", json=body)
        waiting = (
            response.status_code == 422
            and response.json().get("rule") == "active_enrollment_required"
        )
        return None if waiting else response

    return await until(answered, timeout=timeout, interval=0.2)


async def test_jinan_retiree_files_long_term_care_in_sanya_and_gets_the_sms(
    enrollment, notification, remote_care_as, rng
):
    retiree, person_id = await jinan_resident(enrollment, rng, born=date(1958, 4, 12))
    remote_care = await remote_care_as(kind="person", person_id=person_id)
    hospital = await remote_care_as(kind="institution")

    response = await file_when_enrolled(remote_care, person_id, LONG_TERM_SANYA)
    filed_at = time.monotonic()
    assert response.status_code == 201, response.text
    filing = response.json()
    assert (
        filing["status"],
        filing["home_region"],
        filing["destination_name"],
        filing["valid_from"],
        filing["valid_until"],
    ) == ("active", JINAN, "三亚市", today().isoformat(), None)

    sms = await sms_of(notification, person_id, "remote_care.filed")
    seconds = time.monotonic() - filed_at
    # 60 and over: the elderly variant
    assert sms["text"] == (
        f"{TAG}{retiree.name}去三亚市看病的医保备案办好了，自{today().isoformat()}起长期有效。"
    )
    assert sms["sender"] == "10639239"
    assert seconds < 10, f"the SMS took {seconds:.1f} s"
    print(f"approval SMS recorded {seconds:.2f} s after the filing was accepted")

    coverage = (
        await hospital.get(
            f"/persons/{person_id}/coverage",
            params={"region": SANYA, "date": (today() + timedelta(days=365)).isoformat()},
        )
    ).json()
    assert (coverage["covered"], coverage["basis"], coverage["filing_id"]) == (
        True,
        "filing",
        filing["filing_id"],
    )
    second = await remote_care.post(
        f"/persons/{person_id}/filings", json={**LONG_TERM_SANYA, "destination_region": SHANGHAI}
    )
    assert second.status_code == 409
    assert second.json()["rule"] == "one_active_long_term_filing"


async def test_a_person_without_an_active_enrollment_is_refused_with_a_reason(
    enrollment, remote_care_as, rng
):
    person = Person.make(rng, born=date(1960, 2, 2), region=LIXIA)
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]
    remote_care = await remote_care_as(kind="person", person_id=person_id)

    response = await remote_care.post(f"/persons/{person_id}/filings", json=LONG_TERM_SANYA)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["rule"] == "active_enrollment_required"
    assert "no active enrollment" in problem["detail"]
    listed = (await remote_care.get(f"/persons/{person_id}/filings")).json()
    assert listed["filings"] == []


async def test_a_temporary_emergency_filing_back_dated_to_the_admission_is_accepted(
    enrollment, notification, remote_care_as, rng
):
    person, person_id = await jinan_resident(enrollment, rng, born=date(1985, 9, 30))
    remote_care = await remote_care_as(kind="person", person_id=person_id)
    hospital = await remote_care_as(kind="institution")
    admitted = today() - timedelta(days=4)

    response = await file_when_enrolled(
        remote_care,
        person_id,
        {
            "filing_type": "temporary",
            "category": "emergency",
            "destination_region": SHANGHAI,
            "commitment": True,
            "admission_date": admitted.isoformat(),
        },
    )

    assert response.status_code == 201, response.text
    filing = response.json()
    assert (filing["valid_from"], filing["admission_date"], filing["back_dated"]) == (
        admitted.isoformat(),
        admitted.isoformat(),
        True,
    )
    coverage = (
        await hospital.get(
            f"/persons/{person_id}/coverage",
            params={"region": SHANGHAI, "date": admitted.isoformat()},
        )
    ).json()
    assert (coverage["covered"], coverage["category"], coverage["admission_date"]) == (
        True,
        "emergency",
        admitted.isoformat(),
    )
    sms = await sms_of(notification, person_id, "remote_care.filed")
    assert sms["text"] == (
        f"{TAG}尊敬的{person.name}，您的临时异地就医备案（急诊抢救）已办理成功，就医地上海市，"
        f"有效期{admitted.isoformat()}至{filing['valid_until']}。在就医地定点医药机构就医可直接结算。"
    )
