"""Feeds → fraud end to end: death records and traffic-accident cases uploaded at the feeds API
meet the settlements of reimbursement's API in the fraud processor, in both arrival orders, and
become cases an auditor works at fraud's API. Each request is made by its caller: an agency's
exchange system with ``feeds:upload`` uploads the records, the hospital (H37020200017) settles,
an auditor of the province with ``fraud:review`` reads and resolves the signals.

The amount at stake of a signal on a settlement is the settlement's fund payout: what the pooled
fund, the critical-illness insurance, medical assistance and the personal account paid, all but
the person's cash (``chs_fraud.rules.benefits.settled_fen``).

"Before" and "after" are arrival orders at the processor, made certain by waiting until its
group has committed past the first record (``processed``). A death recorded before a settlement
after the date of death: reimbursement would refuse the bill (``not_enrolled``) once enrollment
has ended the enrollment as of the date of death, so the enrollment worker is stopped while the
death reaches the processor and the hospital settles (enrollment has not caught up yet), and
started again after. "Exactly one" is counted after the processor has committed past every
record of the people and case work past every signal: a duplicate would show by then.
"""

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from chs_events.envelope import Envelope
from chs_events.events.feeds import AccidentCaseRecorded, DeathRecorded
from chs_events.events.fraud import FraudSignalRaised, FraudSignalResolved
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.topics import (
    ACCIDENT_FEED,
    BY_NAME,
    DEATH_FEED,
    FRAUD_SIGNALS,
    REIMBURSEMENT_EVENTS,
)
from tests.e2e.people import Person, id_number
from tests.support.broker import until

SHINAN, QINGDAO = "370202", "370200"
HOSPITAL = "H37020200017"  # 青岛大学附属医院, Shinan (370202): the signals' region
DIED = date(2026, 11, 11)
ACCIDENT = date(2026, 11, 8)
PROCESSOR, CASES = "fraud-processor", "fraud-cases"
# The platform shares two cores with other work: generous waits.
WAIT = 180.0


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
async def callers(platform):
    """The exchange system of a province-wide agency (feeds), the hospital's HIS
    (reimbursement), an auditor of the province (fraud), agency staff (enrollment)."""
    async with (
        platform.client("feeds", kind="agency", scope="feeds:upload") as feeds,
        platform.client("reimbursement", kind="institution") as hospital,
        platform.client("fraud", kind="agency", scope="fraud:review") as auditor,
        platform.client("enrollment", kind="agency") as enrollment,
    ):
        yield feeds, hospital, auditor, enrollment


async def resident(enrollment: httpx.AsyncClient, rng: random.Random) -> tuple[Person, str]:
    """A new resident (390) of Qingdao since 2020: the person and their person_id."""
    person = Person.make(rng, region=SHINAN)
    registered = await enrollment.post("/persons", json=person.as_json())
    assert registered.status_code == 201, registered.text
    person_id = registered.json()["person_id"]
    enrolled = await enrollment.post(
        f"/persons/{person_id}/enrollments",
        json={"insutype": "390", "pooling_region": QINGDAO, "start_date": "2020-01-01"},
    )
    assert enrolled.status_code == 201, enrolled.text
    return person, person_id


async def settle(
    hospital: httpx.AsyncClient,
    rng: random.Random,
    person_id: str,
    admitted: date,
    diagnoses: tuple[str, ...] = ("K35.8",),
) -> dict:
    """An inpatient stay of four days settled at the hospital (retried while reimbursement does
    not know the enrollment yet): the settlement."""
    bill = {
        "person_id": person_id,
        "institution_code": HOSPITAL,
        "visit_type": "inpatient",
        "admission_date": admitted.isoformat(),
        "discharge_date": (admitted + timedelta(days=4)).isoformat(),
        "diagnoses": list(diagnoses),
        "eligible_fen": rng.randrange(1_500_000, 3_000_000),
        "ineligible_fen": rng.randrange(50_000, 200_000),
        "invoice_no": f"3702{rng.randrange(10**12):012d}",
    }

    async def settled():
        response = await hospital.post("/settlements", json=bill)
        refused = response.status_code == 422 and response.json().get("rule") == "not_enrolled"
        return None if refused else response

    response = await until(settled, timeout=WAIT, interval=0.3)
    assert response.status_code == 201, response.text
    return response.json()


def fund_payout(settlement: dict) -> int:
    """What the funds paid (a resident has no personal account): all but the person's cash."""
    split = settlement["split"]
    paid = (
        split["pooled_fund_fen"] + split["critical_illness_fen"] + split["medical_assistance_fen"]
    )
    assert paid == split["total_fen"] - split["personal_cash_fen"] > 0
    return paid


# --- the broker: what a topic holds, what a group has committed -----------------------------

Published = list[tuple[ConsumerRecord, Envelope]]


async def published(platform, topic: str) -> Published:
    """Every record of the platform's ``topic`` up to its end offsets now, with its event."""
    name = platform.prefix + topic
    # Earliest as the reset policy, not only a seek: the reset a new assignment starts (latest
    # by default) may land after the seek, and the read would start at the end.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(name, p) for p in range(BY_NAME[topic].partitions)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[ConsumerRecord] = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                found.extend(r for r in batch if r.offset < ends[tp])
    finally:
        await consumer.stop()
    return [(r, Envelope.from_record(r.key, r.value, r.headers)) for r in found]


def of(found: Published, person_ids: set[str]) -> Published:
    return [(r, e) for r, e in found if e.event.person_id in person_ids]


async def published_when(
    platform, topic: str, match: Callable[[Envelope], bool], count: int = 1
) -> Published:
    """Waits until ``topic`` holds ``count`` records whose event ``match`` accepts."""

    async def there() -> Published | None:
        found = [(r, e) for r, e in await published(platform, topic) if match(e)]
        return found if len(found) >= count else None

    return await until(there, timeout=WAIT, interval=0.5)


async def processed(platform, found: Published, group: str = PROCESSOR) -> None:
    """Waits until ``group`` has committed past every record of ``found`` (some)."""
    assert found, "no record to wait for"
    last: dict[TopicPartition, int] = {}
    for r, _ in found:
        tp = TopicPartition(r.topic, r.partition)
        last[tp] = max(last.get(tp, -1), r.offset)
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
    await admin.start()
    try:

        async def past() -> bool:
            committed = await admin.list_consumer_group_offsets(platform.prefix + group)
            return all(tp in committed and committed[tp].offset > o for tp, o in last.items())

        await until(past, timeout=WAIT, interval=0.5)
    finally:
        await admin.close()


def settlements(*settled: dict) -> Callable[[Envelope], bool]:
    ids = {s["settlement_id"] for s in settled}
    return lambda e: isinstance(e.event, SettlementCompleted) and e.event.settlement_id in ids


async def settled_down(platform, person_ids: set[str], feed: str) -> None:
    """The pause in which a duplicate would show: the processor past every record of the
    people (their settlements and feed records), then case work past every signal of theirs."""
    for topic in (REIMBURSEMENT_EVENTS, feed):
        await processed(platform, of(await published(platform, topic), person_ids))
    await processed(platform, of(await published(platform, FRAUD_SIGNALS), person_ids), CASES)


async def signals_of(auditor: httpx.AsyncClient, kind: str, person_ids: set[str]) -> list[dict]:
    """The auditor's worklist of ``kind`` (every page), the people's signals only."""
    found: list[dict] = []
    while True:
        params: dict[str, str | int] = {"kind": kind, "limit": 500, "offset": len(found)}
        response = await auditor.get("/signals", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["signals"]
        if not page["signals"] or len(found) >= page["total"]:
            return [s for s in found if s["person_id"] in person_ids]


async def exactly_one_each(
    platform, auditor: httpx.AsyncClient, kind: str, person_ids: set[str], feed: str
) -> dict[str, dict]:
    """Each person's one signal of ``kind``, counted once a duplicate would show: in the
    worklist and on ``chs.fraud.signals`` (distinct ids: a redelivered event raises the same
    signal again, with the same id, and case work takes it once)."""

    async def everyone() -> list[dict] | None:
        found = await signals_of(auditor, kind, person_ids)
        return found if {s["person_id"] for s in found} == person_ids else None

    await until(everyone, timeout=WAIT, interval=0.5)
    await settled_down(platform, person_ids, feed)
    signals = await signals_of(auditor, kind, person_ids)
    assert Counter(s["person_id"] for s in signals) == dict.fromkeys(person_ids, 1), signals
    on_topic = {
        (e.event.person_id, e.event.signal_id)
        for _, e in of(await published(platform, FRAUD_SIGNALS), person_ids)
        if isinstance(e.event, FraudSignalRaised)
    }
    assert Counter(person for person, _ in on_topic) == dict.fromkeys(person_ids, 1), on_topic
    return {s["person_id"]: s for s in signals}


def check_signal(signal: dict, settlement: dict, record_date: date) -> None:
    """The signal rests on the settlement, with its fund payout at stake."""
    [benefit] = signal["benefits"]
    assert (benefit["kind"], benefit["reference"]) == ("settlement", settlement["settlement_id"])
    assert signal["amount_fen"] == benefit["amount_fen"] == fund_payout(settlement)
    assert benefit["service_date"] == settlement["bill"]["admission_date"]
    assert (signal["record_date"], signal["region"], signal["status"]) == (
        record_date.isoformat(),
        SHINAN,
        "open",
    )


def death_row(number: str, died: date, source: str = "civil_affairs") -> str:
    return f"{number},{died.isoformat()},{source},{SHINAN}"


# --- benefits after death -------------------------------------------------------------------


async def test_a_settlement_after_the_date_of_death_raises_one_signal_in_either_order(
    platform, callers
):
    feeds, hospital, auditor, enrollment = callers
    rng = random.Random()
    assert DIED + timedelta(days=9) < today()
    (first, first_id), (late, late_id) = [await resident(enrollment, rng) for _ in range(2)]
    people = {first_id, late_id}

    # Both had a stay before the date of death, the late-recorded one also one after it.
    before_first = await settle(hospital, rng, first_id, DIED - timedelta(days=10))
    before_late = await settle(hospital, rng, late_id, DIED - timedelta(days=8))
    after_late = await settle(hospital, rng, late_id, DIED + timedelta(days=4))
    await processed(
        platform,
        await published_when(
            platform, REIMBURSEMENT_EVENTS, settlements(before_late, after_late), 2
        ),
    )

    # The late one's death recorded after the settlements (the processor's sweep finds the one
    # after the date), by civil affairs and then by the police: one record, published once.
    death = {"id_number": late.id_number, "date_of_death": DIED.isoformat(), "region_code": SHINAN}
    recorded = await feeds.post("/deaths", json={**death, "source": "civil_affairs"})
    assert recorded.status_code == 201, recorded.text
    reported_again = await feeds.post("/deaths", json={**death, "source": "police"})
    assert reported_again.status_code == 200, reported_again.text
    assert reported_again.json()["outcome"] == "duplicate"

    # The first one's death recorded before a settlement after the date: a civil-affairs batch
    # with bad rows among the good, while enrollment has not caught up (its worker stopped).
    unknown = id_number(SHINAN, date(1941, 6, 2), rng)  # registered nowhere: accepted all the same
    wrong_digit = first.id_number[:-1] + ("0" if first.id_number[-1] != "0" else "1")
    stranger = id_number(SHINAN, date(1950, 1, 9), rng)
    batch = "\n".join(
        [
            "id_number,date_of_death,source,region_code,name",
            death_row(first.id_number, DIED) + ",王某",
            death_row(wrong_digit, DIED) + ",李某",  # the check digit
            death_row(stranger, today() + timedelta(days=3)) + ",张某",  # in the future
            death_row(stranger, DIED, source="hospital") + ",张某",  # no such source
            death_row(unknown, DIED - timedelta(days=1)) + ",赵某",
            f"{stranger},{DIED.isoformat()},civil_affairs,999999,张某",  # no such region
        ]
    ).encode()
    first_upload, second_upload = str(uuid.uuid4()), str(uuid.uuid4())
    platform.processes["enrollment-worker"].stop()
    try:
        uploaded = await feeds.post(
            "/deaths/batches",
            content=batch,
            headers={"Content-Type": "text/csv", "X-Request-Id": first_upload},
        )
        assert uploaded.status_code == 201, uploaded.text
        await processed(
            platform,
            await published_when(platform, DEATH_FEED, lambda e: e.event.person_id == first_id),
        )
        after_first = await settle(hospital, rng, first_id, DIED + timedelta(days=5))
    finally:
        platform.restart("enrollment-worker")

    report = uploaded.json()
    counts = (report["lines"], report["accepted"], report["duplicates"], report["rejected"])
    assert counts == (6, 2, 0, 4), report
    assert [(line["line"], line["outcome"]) for line in report["report"]] == [
        (2, "accepted"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "accepted"),
        (7, "rejected"),
    ]
    reasons = [line["reason"] for line in report["report"] if line["outcome"] == "rejected"]
    assert [r.split(":")[0] for r in reasons] == [
        "id_number",
        "date_of_death",
        "source",
        "region_code",
    ], reasons
    assert all(number not in uploaded.text for number in (first.id_number, stranger, unknown))
    kept = await feeds.get(f"/batches/{report['batch_id']}")
    assert kept.status_code == 200 and kept.json()["report"] == report["report"]

    # The same batch again publishes nothing: its good lines are duplicates now.
    again = await feeds.post(
        "/deaths/batches",
        content=batch,
        headers={"Content-Type": "text/csv", "X-Request-Id": second_upload},
    )
    assert again.status_code == 201, again.text
    assert [line["outcome"] for line in again.json()["report"]] == [
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "duplicate",
        "rejected",
    ]

    signals = await exactly_one_each(platform, auditor, "benefit_after_death", people, DEATH_FEED)
    check_signal(signals[first_id], after_first, DIED)
    check_signal(signals[late_id], after_late, DIED)  # none for the stays before the date

    # The feed: one record each; of the first upload its two good lines, of the second none.
    deaths = await published(platform, DEATH_FEED)
    assert Counter(e.event.person_id for _, e in of(deaths, people)) == {first_id: 1, late_id: 1}
    good = {line["record_id"] for line in report["report"] if line["outcome"] == "accepted"}
    by_upload = [
        (e.correlation_id, e.event.record_id if isinstance(e.event, DeathRecorded) else None)
        for _, e in deaths
        if e.correlation_id in (first_upload, second_upload)
    ]
    assert sorted(by_upload) == sorted((first_upload, record_id) for record_id in good)

    # The auditor works the first one's: confirmed, the family paid it back; once only.
    signal = signals[first_id]
    url = f"/signals/{signal['signal_id']}"
    body = {"outcome": "confirmed", "recovered_fen": signal["amount_fen"], "reason": "家属已退回"}
    resolved = await auditor.post(f"{url}/resolution", json=body)
    assert resolved.status_code == 200, resolved.text
    read = (await auditor.get(url)).json()
    assert (read["status"], read["recovered_fen"], read["reason"]) == (
        "confirmed",
        signal["amount_fen"],
        "家属已退回",
    )
    assert read["resolved_by"] and read["resolved_on"] and read["resolved_at"]
    twice = await auditor.post(f"{url}/resolution", json={"outcome": "dismissed", "reason": "重复"})
    assert twice.status_code == 409, twice.text
    assert (await auditor.get(url)).json()["status"] == "confirmed"
    [(_, resolution)] = await published_when(
        platform,
        FRAUD_SIGNALS,
        lambda e: (
            isinstance(e.event, FraudSignalResolved) and e.event.signal_id == signal["signal_id"]
        ),
    )
    assert isinstance(resolution.event, FraudSignalResolved)
    assert (resolution.event.outcome, resolution.event.recovered_fen) == (
        "confirmed",
        signal["amount_fen"],
    )
    untouched = (await auditor.get(f"/signals/{signals[late_id]['signal_id']}")).json()
    assert untouched["status"] == "open"
    assert before_first["settlement_id"] not in str(signals)


# --- third-party liability (医保警) ------------------------------------------------------------


def accident(person: Person, source: str = "traffic_police") -> dict:
    return {
        "id_number": person.id_number,
        "case_id": f"QD-JJ-2026-{uuid.uuid4().hex[:8]}",
        "accident_date": ACCIDENT.isoformat(),
        "source": source,
        "liable_party": f"鲁B·{uuid.uuid4().hex[:5].upper()}",
        "region_code": SHINAN,
    }


async def test_an_injury_with_an_accident_case_raises_one_signal_in_either_order(platform, callers):
    feeds, hospital, auditor, enrollment = callers
    rng = random.Random()
    (first, first_id), (late, late_id) = [await resident(enrollment, rng) for _ in range(2)]
    people = {first_id, late_id}
    fracture = ("S82.2", "V43.5")  # a tibia broken in a car accident

    # The first one's case reported by the traffic police, then by the insurer: one record.
    his_case = accident(first)
    recorded = await feeds.post("/accidents", json=his_case)
    assert recorded.status_code == 201, recorded.text
    insurer = await feeds.post("/accidents", json={**his_case, "source": "insurer"})
    assert insurer.status_code == 200 and insurer.json()["outcome"] == "duplicate"
    # The late one's injury settled before the case is known.
    injured_late = await settle(hospital, rng, late_id, ACCIDENT + timedelta(days=2), fracture)
    await processed(
        platform,
        await published_when(platform, ACCIDENT_FEED, lambda e: e.event.person_id == first_id),
    )
    await processed(
        platform, await published_when(platform, REIMBURSEMENT_EVENTS, settlements(injured_late))
    )

    # Then the first one's injury, admitted the day after the accident; the late one's case, in
    # a JSON Lines batch uploaded twice (the second time a duplicate: nothing published).
    injured_first = await settle(hospital, rng, first_id, ACCIDENT + timedelta(days=1), fracture)
    her_case = accident(late)
    line = (json.dumps(her_case, ensure_ascii=False) + "\n").encode()
    reports = []
    for _ in range(2):
        uploaded = await feeds.post(
            "/accidents/batches", content=line, headers={"Content-Type": "application/x-ndjson"}
        )
        assert uploaded.status_code == 201, uploaded.text
        reports.append([(r["line"], r["outcome"]) for r in uploaded.json()["report"]])
    assert reports == [[(1, "accepted")], [(1, "duplicate")]]

    signals = await exactly_one_each(
        platform, auditor, "third_party_liability", people, ACCIDENT_FEED
    )
    check_signal(signals[first_id], injured_first, ACCIDENT)
    check_signal(signals[late_id], injured_late, ACCIDENT)
    assert signals[first_id]["record_reference"] == his_case["case_id"]
    assert signals[late_id]["record_reference"] == her_case["case_id"]
    cases = of(await published(platform, ACCIDENT_FEED), people)
    assert all(isinstance(e.event, AccidentCaseRecorded) for _, e in cases)
    assert Counter(e.event.person_id for _, e in cases) == {first_id: 1, late_id: 1}
