"""The reimbursement service against a real PostgreSQL server (a fresh database for this module)
and a real broker: the read models the audits need through the real consumer runners, direct
settlement with the calculator's split and its reversal, manual claims audited (enrolled,
remote-care filing, duplicate invoice across claims and settlements, deadline) and paid."""

import asyncio
import secrets
import uuid
from datetime import date, timedelta

import pytest

from chs_events.admin import ensure_topics
from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.reimbursement import ClaimPaid, SettlementCompleted
from chs_events.events.remote_care import RemoteCareFiled, RemoteCareRevoked
from chs_events.read_models import enrollments, filings
from chs_events.topics import BY_NAME, ENROLLMENT_EVENTS, REMOTE_CARE_EVENTS, dead_letter_spec
from chs_events.unit_of_work import UnitOfWork
from chs_reimbursement.api import create_app
from chs_reimbursement.consumers import SUBSCRIPTIONS
from chs_reimbursement.settings import ReimbursementSettings
from tests.support import broker
from tests.support.broker import until
from tests.support.people import new_person_id
from tests.support.service import consuming, outbox_of, service_fixtures, types
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

SETTLED, REVERSED = (
    "chs.reimbursement.settlement.completed.v1",
    "chs.reimbursement.settlement.reversed.v2",
)
SUBMITTED, APPROVED, REJECTED, PAID = (
    f"chs.reimbursement.claim.{t}.v1" for t in ("submitted", "approved", "rejected", "paid")
)
QINGDAO, SANYA, JINAN = "370200", "460200", "370100"


def invoice() -> str:
    return f"37020026{secrets.token_hex(5)}"


settings, app, client, db = service_fixtures("reimbursement", ReimbursementSettings, create_app)


def hospital(institution_code: str = "H37020200017") -> dict[str, str]:
    """The HIS of the hospital the bills name (a Qingdao level-3 hospital)."""
    return bearer("reimbursement", kind="institution", institution_code=institution_code)


def agency(region: str = "370000") -> dict[str, str]:
    """Agency staff of the province, with every business scope."""
    return bearer("reimbursement", kind="agency", region=region)


def person_token(person_id: str) -> dict[str, str]:
    return bearer("reimbursement", kind="person", person_id=person_id)


def enrolled(
    person_id: str, insutype: str = "390", region: str = QINGDAO, start: date = date(2020, 1, 1)
) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=f"N{uuid.uuid4().hex[:12]}",
        insutype=insutype,
        pooling_region=region,
        start_date=start,
    )


def filed(
    person_id: str,
    destination: str = SANYA,
    filing_type: str = "long_term",
    valid_from: date = date(2026, 1, 1),
) -> RemoteCareFiled:
    return RemoteCareFiled(
        person_id=person_id,
        filing_id=f"F{uuid.uuid4().hex[:12]}",
        filing_type=filing_type,
        category="relocated_retiree" if filing_type == "long_term" else "referral",
        destination_region=destination,
        valid_from=valid_from,
        valid_until=None if filing_type == "long_term" else valid_from + timedelta(days=180),
        home_region=QINGDAO,
        insutype="390",
        enrollment_id="N1",
        filed_on=valid_from,
    )


async def as_consumed(app, *events) -> None:
    """The read models' handlers applied as the consumer runner would (one transaction each)."""
    handlers = {**enrollments.SUBSCRIPTION_HANDLERS, **filings.SUBSCRIPTION_HANDLERS}
    async with app.state.pool.acquire() as conn:
        for event in events:
            envelope = Envelope(event, source="/chs/test")
            async with UnitOfWork.caused_by(conn, envelope, source="/chs/test") as uow:
                await handlers[envelope.type](uow, envelope)


def bill(person_id: str, **changes) -> dict:
    """A Qingdao level-3 admission: 80 000.00 yuan eligible, 5 000.00 yuan ineligible."""
    return {
        "person_id": person_id,
        "institution_code": "H37020200017",  # 青岛大学附属医院, level 3, 370202 (the registry)
        "visit_type": "inpatient",
        "admission_date": "2026-11-10",
        "discharge_date": "2026-11-18",
        "diagnoses": ["C34.9"],
        "eligible_fen": 8_000_000,
        "ineligible_fen": 500_000,
        "invoice_no": invoice(),
        **changes,
    }


def parts(split: dict) -> tuple[int, int, int, int]:
    return (
        split["pooled_fund_fen"],
        split["critical_illness_fen"],
        split["medical_assistance_fen"],
        split["personal_cash_fen"],
    )


async def test_the_read_models_are_kept_from_the_topics_by_the_real_consumers(
    settings, app, db, topic_prefix
):
    specs = [BY_NAME[ENROLLMENT_EVENTS], BY_NAME[REMOTE_CARE_EVENTS]]
    await ensure_topics(
        settings.kafka_bootstrap,
        topic_prefix,
        [s for spec in specs for s in (spec, dead_letter_spec(spec))],
    )
    consumer_settings = settings.model_copy(update={"topic_prefix": topic_prefix})
    person = new_person_id()
    enrollment, filing = enrolled(person), filed(person)
    revoked = RemoteCareRevoked(
        person_id=person,
        filing_id=filing.filing_id,
        filing_type="long_term",
        category="relocated_retiree",
        destination_region=SANYA,
        valid_from=filing.valid_from,
        valid_until=None,
        revoked_on=date(2026, 6, 1),
    )
    await broker.publish_each(
        settings,
        [
            (topic_prefix + topic, Envelope(event, source="/chs/test"))
            for topic, event in (
                (ENROLLMENT_EVENTS, enrollment),
                (REMOTE_CARE_EVENTS, filing),
                (REMOTE_CARE_EVENTS, revoked),
            )
        ],
    )

    async def seen():  # each group trails its own topic: both read models caught up
        revoked = await db.fetchrow(
            "select revoked_on from filing_view where filing_id = $1 and revoked_on is not null",
            filing.filing_id,
        )
        return revoked and await enrollments.enrollments_of(db, person)

    async with consuming(SUBSCRIPTIONS, app.state.pool, consumer_settings):
        await until(seen, timeout=60)
    assert [e.enrollment_id for e in await enrollments.enrollments_of(db, person)] == [
        enrollment.enrollment_id
    ]
    [known] = await filings.filings_of(db, person)
    assert (
        known.covers("460200", date(2026, 5, 31)),
        known.covers("460200", date(2026, 6, 1)),
        known.covers("370202", date(2026, 5, 31)),
    ) == (True, False, False)


async def test_a_dibao_resident_is_settled_through_all_three_tiers(app, db, client):
    person = new_person_id()
    await as_consumed(app, enrolled(person))
    groups = await client.put(
        f"/persons/{person}/assisted-groups", json={"groups": ["dibao"]}, headers=agency()
    )
    assert groups.json() == {"groups": ["dibao"]}

    response = await client.post(
        "/settlements",
        json=bill(person, invoice_no="QD-3T-1" + secrets.token_hex(4)),
        headers={**hospital(), "X-Request-Id": "his-1"},
    )
    assert response.status_code == 201, response.text
    settlement = response.json()
    # Qingdao 2026, resident, level 3: basic (8 000 000 − 100 000) × 650‰ = 5 135 000;
    # critical illness (assisted threshold 750 000): eligible self-pay 8 000 000 − 5 135 000 =
    # 2 865 000, above it 2 115 000 × (600 + 50)‰ = 1 374 750; medical assistance (低保): left
    # 2 865 000 − 1 374 750 = 1 490 250 × 700‰ = 1 043 175; cash 447 075 + ineligible 500 000.
    assert parts(settlement["split"]) == (5_135_000, 1_374_750, 1_043_175, 947_075)
    assert settlement["split"]["total_fen"] == 8_500_000
    assert [line["tier"] for line in settlement["split"]["lines"]] == [
        "pooled_fund",
        "critical_illness",
        "medical_assistance",
        "personal_cash",
        "personal_cash",
    ]
    assert (
        settlement["terms"]["insutype"],
        settlement["terms"]["basis"],
        settlement["terms"]["filing"],
    ) == ("390", "home_city", "none")
    assert response.headers["location"] == f"/settlements/{settlement['settlement_id']}"

    [event] = await outbox_of(db, person)
    assert (event.type, event.correlation_id) == (SETTLED, "his-1")
    completed = event.event
    assert isinstance(completed, SettlementCompleted)
    assert (
        completed.pooled_fund_fen,
        completed.critical_illness_fen,
        completed.medical_assistance_fen,
        completed.personal_cash_fen,
    ) == parts(settlement["split"])
    assert (
        completed.invoice_no,
        completed.discharge_diagnoses,
        completed.institution_code,
    ) == (settlement["bill"]["invoice_no"], ["C34.9"], "H37020200017")
    totals = (
        await client.get(f"/persons/{person}/accumulators?year=2026", headers=hospital())
    ).json()
    assert (
        totals["admissions"],
        totals["basic_inpatient_paid_fen"],
        totals["assistance_paid_fen"],
    ) == (1, 5_135_000, 1_043_175)


async def test_an_invoice_is_never_reimbursed_twice_and_a_reversal_frees_it(app, db, client):
    person = new_person_id()
    await as_consumed(app, enrolled(person, insutype="310"))
    body = bill(person)
    first = await client.post("/settlements", json=body, headers=hospital())
    assert first.status_code == 201, first.text
    settlement_id = first.json()["settlement_id"]
    before = (
        await client.get(f"/persons/{person}/accumulators?year=2026", headers=person_token(person))
    ).json()

    again = await client.post("/settlements", json=body, headers=hospital())
    assert again.status_code == 409, again.text
    assert (again.json()["rule"], again.json()["reimbursed_by"]) == (
        "invoice_already_reimbursed",
        f"settlement {settlement_id}",
    )
    assert again.headers["content-type"] == "application/problem+json"

    claimed = await client.post(  # the same invoice as a manual claim
        "/claims", json=body, headers=person_token(person)
    )
    assert claimed.status_code == 201, claimed.text
    claim = claimed.json()
    assert (claim["status"], claim["rule"], claim["payable_fen"]) == (
        "rejected",
        "invoice_already_reimbursed",
        0,
    )
    assert claim["reason"] == "该发票已报销或已结算，不能重复报销"

    for free_text in (
        {"reason": "结算数据有误"},
        {"reason_code": "结算数据有误"},
        {"reason_code": "settlement_data_error", "reason": "请致电 400-000-0000"},
    ):
        refused = await client.post(
            f"/settlements/{settlement_id}/reverse", json=free_text, headers=hospital()
        )
        assert refused.status_code == 422, refused.text
    reversed_ = await client.post(
        f"/settlements/{settlement_id}/reverse",
        json={"reason_code": "settlement_data_error"},
        headers=hospital(),
    )
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["status"] == "reversed"
    assert (reversed_.json()["reversal_reason_code"], reversed_.json()["reversal_reason"]) == (
        "settlement_data_error",
        "医院结算信息有误，已重新结算",
    )
    twice = await client.post(
        f"/settlements/{settlement_id}/reverse",
        json={"reason_code": "duplicate_settlement"},
        headers=hospital(),
    )
    assert (twice.status_code, twice.json()["status_now"]) == (409, "reversed")
    after = (await client.get(f"/persons/{person}/accumulators?year=2026", headers=agency())).json()
    assert after["admissions"] == before["admissions"] - 1 == 0
    assert after["basic_inpatient_paid_fen"] == 0

    claimed = await client.post("/claims", json=body, headers=agency())  # free again: approved
    assert claimed.json()["status"] == "approved", claimed.text
    assert types(await outbox_of(db, person)) == [
        SETTLED,
        SUBMITTED,
        REJECTED,
        REVERSED,
        SUBMITTED,
        APPROVED,
    ]


async def test_an_invoice_number_is_unique_per_institution_not_across_the_platform(app, db, client):
    """Two hospitals may each issue invoice 0001: both are settled; the same hospital's again
    is refused (it was refused across the platform)."""
    person = new_person_id()
    await as_consumed(app, enrolled(person, insutype="310"))
    number = invoice()
    other = "H37020200099"  # 青岛市市立医院, another Qingdao level-3 hospital
    at_first = bill(person, invoice_no=number)
    at_other = bill(person, institution_code=other, invoice_no=number)

    first = await client.post("/settlements", json=at_first, headers=hospital())
    second = await client.post("/settlements", json=at_other, headers=hospital(other))
    again = await client.post(
        "/settlements", json={**at_first, "admission_date": "2026-11-11"}, headers=hospital()
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert (again.status_code, again.json()["rule"]) == (409, "invoice_already_reimbursed")
    assert types(await outbox_of(db, person)) == [SETTLED, SETTLED]


async def test_claims_are_audited_approved_paid_or_rejected_with_the_rule(app, db, client):
    person, stranger = new_person_id(), new_person_id()
    filing = filed(person, valid_from=date(2026, 3, 1))
    await as_consumed(app, enrolled(person, start=date(2025, 1, 1)), filing)
    sanya = {"institution_code": "H46020200003"}  # 三亚中心医院, 460200 (the registry)

    async def claim(who: str, **changes) -> dict:
        response = await client.post(
            "/claims", json=bill(who, **changes), headers=person_token(who)
        )
        assert response.status_code == 201, response.text
        return response.json()

    covered = await claim(person, **sanya)
    assert (
        covered["status"],
        covered["terms"]["basis"],
        covered["terms"]["remote_care_filing_id"],
    ) == ("approved", "filing", filing.filing_id)
    assert covered["payable_fen"] == sum(parts(covered["split"])[:3]) > 0

    unfiled = await claim(person, **sanya, admission_date="2026-02-10", discharge_date="2026-02-18")
    assert (unfiled["status"], unfiled["rule"]) == ("rejected", "no_remote_care_filing")
    emergency = await claim(
        person, **sanya, admission_date="2026-02-10", discharge_date="2026-02-18", emergency=True
    )
    assert (emergency["status"], emergency["terms"]["filing"]) == ("approved", "temporary")
    # temporary remote care: first self-pay 10 % of 8 000 000 = 800 000, then the basic
    # insurance on the rest: (7 200 000 − 100 000) × 650‰ = 4 615 000
    assert emergency["split"]["pooled_fund_fen"] == 4_615_000
    assert any("first self-pay 800000" in line["rule"] for line in emergency["split"]["lines"])
    in_province = await claim(person, institution_code="H37010200001")  # 370102
    assert (in_province["status"], in_province["terms"]["basis"]) == ("approved", "in_province")
    not_enrolled = await claim(stranger)
    assert (not_enrolled["status"], not_enrolled["rule"]) == ("rejected", "not_enrolled")
    late = await claim(person, admission_date="2025-03-01", discharge_date="2025-03-09")
    assert (late["status"], late["rule"]) == ("rejected", "claim_deadline_passed")

    paid = await client.post(
        f"/claims/{covered['claim_id']}/pay", json={"payment_reference": "BANK-7"}, headers=agency()
    )
    assert (paid.status_code, paid.json()["status"]) == (200, "paid"), paid.text
    future = await client.post(
        f"/claims/{in_province['claim_id']}/pay",
        json={"payment_reference": "BANK-F", "paid_on": "2030-01-01"},
        headers=agency(),
    )
    assert (future.status_code, future.json()["errors"][0]["field"]) == (422, "paid_on")
    retried = await client.post(
        f"/claims/{covered['claim_id']}/pay", json={"payment_reference": "BANK-7"}, headers=agency()
    )
    assert (retried.status_code, retried.json()["paid_on"]) == (200, paid.json()["paid_on"])
    again = await client.post(
        f"/claims/{covered['claim_id']}/pay", json={"payment_reference": "BANK-8"}, headers=agency()
    )
    assert again.status_code == 409
    rejected_pay = await client.post(
        f"/claims/{unfiled['claim_id']}/pay", json={"payment_reference": "BANK-9"}, headers=agency()
    )
    assert rejected_pay.status_code == 409

    events = await outbox_of(db, person)
    paid_event = next(e.event for e in events if e.type == PAID)
    assert isinstance(paid_event, ClaimPaid)
    assert (paid_event.claim_id, paid_event.amount_fen) == (
        covered["claim_id"],
        covered["payable_fen"],
    )
    assert [e.type for e in events].count(REJECTED) == 2
    assert [e.type for e in events].count(PAID) == 1  # the retried payment published nothing
    history = (
        await client.get(f"/persons/{person}/reimbursements", headers=person_token(person))
    ).json()
    assert len(history["claims"]) == 5 and history["settlements"] == []


async def test_concurrent_settlements_of_one_invoice_settle_it_once(app, db, client):
    person = new_person_id()
    await as_consumed(app, enrolled(person))
    body = bill(person)
    statuses = [
        r.status_code
        for r in await asyncio.gather(
            *(client.post("/settlements", json=body, headers=hospital()) for _ in range(12))
        )
    ]
    assert sorted(statuses) == [201] + [409] * 11
    totals = (
        await client.get(f"/persons/{person}/accumulators?year=2026", headers=hospital())
    ).json()
    assert totals["admissions"] == 1
    assert types(await outbox_of(db, person)) == [SETTLED]


async def test_bad_bills_get_a_problem_that_names_what_is_wrong(app, client):
    person = new_person_id()
    await as_consumed(app, enrolled(person))
    cases = [
        (bill(person, eligible_fen=12.5), "eligible_fen"),
        (bill(person, discharge_date=None), "discharge_date"),
        (bill(person, institution_region="379999"), "institution_region"),
        (bill(person, institution_code="H37029999999"), "institution_code"),
        (bill(person, institution_code="not a code!"), "institution_code"),
        (bill(person, institution_name="青岛某某医院，请致电 400-000-0000"), "institution_name"),
        (bill(person, institution_level=1), "institution_level"),
        (bill(person, institution_region="370203"), "institution_region"),
        (bill(person, diagnoses=["not-a-code"]), "diagnoses"),
        (bill(person, admission_date="2026-11-20", discharge_date="2026-11-19"), "discharge_date"),
    ]
    for body, named in cases:
        response = await client.post("/settlements", json=body, headers=hospital())
        assert response.status_code == 422, (body, response.text)
        assert named in response.json()["detail"], response.json()
    unknown = await client.post("/settlements", json=bill(new_person_id()), headers=hospital())
    assert (unknown.status_code, unknown.json()["rule"]) == (422, "not_enrolled")
    missing = await client.get("/settlements/S-none", headers=hospital())
    assert missing.status_code == 404


async def test_a_bill_whose_total_is_past_the_events_bound_is_refused(app, db, client):
    """Eligible and ineligible amounts each within 10^12 fen whose sum, the events' total_fen,
    is not: 422 naming the total and nothing recorded (it answered 500, the event refused inside
    the unit of work). A total at the bound is a claim like any other."""
    person = new_person_id()
    await as_consumed(app, enrolled(person))
    over = bill(person, eligible_fen=10**12, ineligible_fen=1)
    for path, caller in (("/claims", person_token(person)), ("/settlements", hospital())):
        refused = await client.post(path, json=over, headers=caller)
        assert refused.status_code == 422, refused.text
        assert "eligible_fen + ineligible_fen" in refused.json()["detail"], refused.json()
    assert types(await outbox_of(db, person)) == []

    at_bound = bill(person, eligible_fen=10**12 - 1, ineligible_fen=1)
    claimed = await client.post("/claims", json=at_bound, headers=person_token(person))
    assert claimed.status_code == 201, claimed.text
    assert types(await outbox_of(db, person))[0] == SUBMITTED


async def test_concurrent_settlements_of_one_person_count_every_admission_once(app, db, client):
    person = new_person_id()
    await as_consumed(app, enrolled(person))
    responses = await asyncio.gather(
        *(
            client.post(
                "/settlements",
                json=bill(person, eligible_fen=3_000_000 + 1_000 * n, ineligible_fen=0),
                headers=hospital(),
            )
            for n in range(10)
        )
    )
    assert [r.status_code for r in responses] == [201] * 10
    pooled = [r.json()["split"]["pooled_fund_fen"] for r in responses]
    totals = (
        await client.get(f"/persons/{person}/accumulators?year=2026", headers=hospital())
    ).json()
    # each settlement read the totals the one before it left: nothing lost, nothing twice
    assert (
        totals["admissions"],
        totals["inpatient_deductibles_paid_fen"],
        totals["basic_inpatient_paid_fen"],
    ) == (10, 10 * 100_000, sum(pooled))
    assert types(await outbox_of(db, person)) == [SETTLED] * 10
