"""A synthetic province day (Shandong), scaled by a factor, replayed through the running platform.

    make up && make bench-day     (or: python bench/province_day.py [--factor 0.001] [--rate 0])

The field (Shandong): ~100 M insured; 839 K business transactions and 6.4 亿元 (640 M yuan)
settled a day; personal-account spending at pharmacies runs to millions of postings a day. The
mix of a whole day (``--factor 1``) below adds up to those numbers: the 839,000 business
transactions, the settlements' totals to 640 M yuan (532,000 outpatient visits of ~415 yuan and
28,000 discharges of ~15,000 yuan), and 2,000,000 pharmacy debits on top.

    business      per day  request (caller) → SMS; the posting checked
    enrollment     15,000  POST /persons, POST /persons/{id}/enrollments 390 (the agency)
                           → enrollment.registered; the enrollment in reimbursement's read model
    staff          40,000  POST /employers/{id}/staff/batch-add, 20 people (the employer's key)
                           → enrollment.registered each; the personal account opened
    contribution  200,000  POST /contributions (tax collection) → enrollment.contribution_paid
                           and account.credited; the credit in the account's ledger
    settlement    560,000  POST /settlements (a Qingdao hospital's HIS, 5 % discharges)
                           → reimbursement.settled; the settlement, completed
    claim           4,000  POST /claims (the agency: an emergency stay in Sanya), then
                           POST /claims/{id}/pay → reimbursement.claim_submitted,
                           claim_approved, claim_paid; the claim, paid
    filing         20,000  POST /persons/{id}/filings (the agency: temporary, outside the
                           province) → remote_care.filed; the filing in reimbursement's read model
    pharmacy    2,000,000  POST /accounts/{id}/debits (the pharmacy) → account.debited; the
                           debit in the account's ledger

Each business is scaled by ``--factor`` (at least one of each). Here (two cores shared by the
platform, its broker, database and Keycloak, this driver and other work), flat out: 0.0001 (285
business events, 307 SMS) takes ~15 s; the default 0.001 (2,839 events, 3,047 SMS) 1 to 2 ¼
min (the day 35 to 45 s of it, the rest set-up; it depends on the other work); 0.01, the
issue's CI size (28,390 events, 30,470 SMS), ~7 ½ min: 1 ½ min set-up and 375 s for the day
(~76 business events/s end to end; the pharmacy debits, 70 % of the day, queue at accounts-api:
p95 1.3 s flat out, 45 ms at a steady 40/s). The whole day (``--factor 1``, 2.84 M requests)
would take ~10 hours at that pace.

Set-up (not measured): a Qingdao (370200) employer adds the insured people the day's
contributions, settlements, claims, filings and debits are for (one per ten of those), each pays
an opening contribution so the personal account has a balance, and the platform is left to
become quiet (their SMS sent, the read models of reimbursement and remote care caught up); the
day's employers register. The day's enrollments and staff additions are new people.

Then the day's operations are shuffled and started at ``--rate`` operations a second, or as
fast as ``--in-flight`` concurrent operations go (``--rate 0``, the default). Tokens come from
the local Keycloak (realm ``chs``: the hospital HIS clients, the pharmacy, tax collection, the
province agency; employers use their API key). Then the driver waits until every expected SMS
(by template and person, recorded by the SMS gateway) and every expected posting is in the
services' databases, nothing more arrives for ``--quiet`` seconds, or ``--timeout`` passes. It
prints per business: business events, requests, answered OK, expected SMS, arrived, expected
postings, arrived, the requests' p95 answer time; the settled total against the field's; the
elapsed time from the first request to the last arrival and business events per second.
Exits 1 unless every request was answered OK and every expected SMS and posting arrived.
"""

import argparse
import asyncio
import functools
import itertools
import math
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.common
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo_reimbursement import REIMBURSEMENT, in_policy_year
from demo_support import (
    ADMIN_TOKEN,
    AGENCY,
    CHINA,
    ENROLLMENT,
    PHARMACY,
    QINGDAO_HOSPITAL,
    REMOTE_CARE,
    TAX_COLLECTION,
    WOMEN_CHILDREN_HOSPITAL,
    Person,
    service_url,
)

from bench.common import client, employees, new_people, token, until_quiet
from chs_events.settings import PlatformSettings, dsn_for_database

ACCOUNTS = service_url("ACCOUNTS", 8106)
QINGDAO, SANYA = "370200", "460200"
DESTINATIONS = ("310000", "110000", SANYA)  # Shanghai, Beijing, Sanya: outside the province
HOSPITALS = {QINGDAO_HOSPITAL: "H37020200017", WOMEN_CHILDREN_HOSPITAL: "H37020000001"}
SANYA_HOSPITAL = "H46020000003"
PHARMACY_CODE = "M370202000001"  # the realm's pharmacy client debits under its own code
STAFF_BATCH = 20  # people per staff batch-add of the day
BATCHES_PER_EMPLOYER = 10
OPENING_PERSONAL_FEN = 300_000  # the set-up contribution's personal part: the account's balance
EMPLOYER_PART_FEN, PERSONAL_PART_FEN = 64_000, 16_000  # a month on a base of 8,000 yuan
# Diagnoses outside the chronic-disease catalog (no auto-certification SMS) and not maternity.
OUTPATIENT_DIAGNOSES = ("J06.9", "K29.7", "J02.9", "M54.5", "L30.9")
INPATIENT_DIAGNOSES = ("J18.9", "K35.8", "K80.2", "S72.0")
INPATIENT_SHARE = 28_000 / 560_000

# The whole day (factor 1): business → (per day, what it is).
DAY: dict[str, tuple[int, str]] = {
    "enrollment": (15_000, "resident registrations and enrollments (390)"),
    "staff": (40_000, "employer staff additions (310, 增员)"),
    "contribution": (200_000, "contributions (310, 税务征缴)"),
    "settlement": (560_000, "one-stop settlements at hospitals (一站式结算)"),
    "claim": (4_000, "manual claims, approved and paid (手工报销)"),
    "filing": (20_000, "remote-care filings (异地就医备案)"),
    "pharmacy": (2_000_000, "personal-account debits at pharmacies"),
}
FIELD_SETTLED_YUAN = 640_000_000
ON_POOL = ("contribution", "settlement", "claim", "filing", "pharmacy")  # the set-up's people

# Where a posting is checked: kind → (database, query returning the keys found of $1).
POSTINGS: dict[str, tuple[str, str]] = {
    "enrollment_view": (
        "chs_reimbursement",
        "select enrollment_id from enrollment_view where enrollment_id = any($1)",
    ),
    "account": ("chs_accounts", "select person_id from accounts where person_id = any($1)"),
    "ledger": (
        "chs_accounts",
        "select transaction_id from ledger_transactions where transaction_id = any($1)",
    ),
    "settlement": (
        "chs_reimbursement",
        "select settlement_id from settlements where settlement_id = any($1) "
        "and status = 'completed'",
    ),
    "claim_paid": (
        "chs_reimbursement",
        "select claim_id from claims where claim_id = any($1) and status = 'paid'",
    ),
    "filing_view": (
        "chs_reimbursement",
        "select filing_id from filing_view where filing_id = any($1)",
    ),
}


@dataclass
class Tally:
    """What one business sent and what it expects to arrive."""

    business: int = 0  # business transactions (a staff batch counts its people)
    requests: int = 0
    ok: int = 0
    sms: Counter[tuple[str, str]] = field(default_factory=Counter)  # (template, person)
    postings: list[tuple[str, str]] = field(default_factory=list)  # (kind, key)
    failures: Counter[str] = field(default_factory=Counter)
    settled_fen: int = 0
    answer_seconds: list[float] = field(default_factory=list)  # each request's, until answered


@dataclass
class Member:
    """One of the set-up's insured people."""

    person_id: str
    enrollment_id: str
    periods: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def next_period(self) -> str:
        months = next(self.periods)  # 202001 is the opening contribution's
        return f"{2020 + months // 12}{months % 12 + 1:02d}"


def unknown() -> str:
    """The key of something a refused request never named: it cannot arrive."""
    return f"?{uuid.uuid4().hex}"


class Callers:
    """Bearer headers of the realm's clients, fetched again after a minute (tokens last 5)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def header(self, client_id: str) -> dict[str, str]:
        value, fetched = self._tokens.get(client_id, ("", 0.0))
        if time.monotonic() - fetched > 60:
            value, fetched = token(client_id), time.monotonic()
            self._tokens[client_id] = value, fetched
        return {"Authorization": f"Bearer {value}"}


class Http:
    """POSTs of JSON bodies, counted in a tally. A refused connection is tried again for up to
    30 s (a restarting API: the wait counts in the answer time), a connection closed under a
    request twice (every request here is idempotent by its key or refused as a duplicate)."""

    def __init__(self, session: aiohttp.ClientSession, callers: Callers) -> None:
        self.session, self.callers = session, callers

    async def post(
        self,
        tally: Tally,
        url: str,
        body: dict,
        caller: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict | None:
        tally.requests += 1
        sent = {
            "Content-Type": "application/json",
            "X-Request-Id": f"day-{uuid.uuid4().hex[:12]}",
            **(self.callers.header(caller) if caller else {}),
            **(headers or {}),
        }
        data, problem, started = orjson.dumps(body), "", time.perf_counter()
        closed, pause = 0, 0.5
        while True:
            try:
                async with self.session.post(url, data=data, headers=sent) as answer:
                    status, text = answer.status, await answer.read()
            except aiohttp.ClientConnectorError as error:  # refused: nothing was sent
                problem = type(error).__name__
                if time.perf_counter() - started > 30:
                    break
                await asyncio.sleep(pause)
                pause = min(2 * pause, 4.0)
                continue
            except aiohttp.ClientConnectionError as error:
                problem, closed = type(error).__name__, closed + 1
                if closed < 3:
                    continue
                break
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = type(error).__name__
                break
            tally.answer_seconds.append(time.perf_counter() - started)
            if status in (200, 201):
                tally.ok += 1
                return orjson.loads(text)
            problem = f"{status} {text[:160].decode(errors='replace')}"
            break
        tally.failures[problem] += 1
        return None


# --- the day's operations --------------------------------------------------------------------


@dataclass
class Day:
    http: Http
    rng: random.Random
    pool: list[Member]
    employers: list[dict]
    people: list[Person]  # new to the registry: the day's enrollments and staff
    run: str
    today: date
    tallies: dict[str, Tally] = field(default_factory=lambda: {b: Tally() for b in DAY})
    serial: itertools.count = field(default_factory=itertools.count)

    def key(self, prefix: str) -> str:
        return f"{prefix}-{self.run}-{next(self.serial):08d}"

    def member(self) -> Member:
        return self.rng.choice(self.pool)

    def day_back(self, low: int, high: int) -> date:
        return in_policy_year(self.today - timedelta(days=self.rng.randint(low, high)))

    def stay(
        self, discharged: date, longest: int, eligible: tuple[int, int], ineligible: int
    ) -> dict:
        """An inpatient stay of 2 to ``longest`` days, its bill in fen."""
        return {
            "visit_type": "inpatient",
            "admission_date": (discharged - timedelta(self.rng.randint(2, longest))).isoformat(),
            "discharge_date": discharged.isoformat(),
            "diagnoses": [self.rng.choice(INPATIENT_DIAGNOSES)],
            "eligible_fen": self.rng.randint(*eligible),
            "ineligible_fen": self.rng.randint(0, ineligible),
        }

    async def enrollment(self) -> None:
        t = self.tallies["enrollment"]
        t.business += 1
        person = self.people.pop()
        registered = await self.http.post(
            t, f"{ENROLLMENT}/persons", person.registration, caller=AGENCY
        )
        person_id = registered["person_id"] if registered else unknown()
        t.sms["enrollment.registered", person_id] += 1
        enrolled = None
        if registered:
            enrolled = await self.http.post(
                t,
                f"{ENROLLMENT}/persons/{person_id}/enrollments",
                {"insutype": "390", "pooling_region": QINGDAO},
                caller=AGENCY,
            )
        t.postings.append(("enrollment_view", enrolled["enrollment_id"] if enrolled else unknown()))

    async def staff(self, employer: dict, size: int) -> None:
        t = self.tallies["staff"]
        t.business += size
        people = [self.people.pop() for _ in range(size)]
        start = self.today.replace(day=1).isoformat()
        added = await self.http.post(
            t,
            f"{ENROLLMENT}/employers/{employer['employer_id']}/staff/batch-add",
            {
                "items": [
                    {**p.registration, "contribution_base_fen": 800_000, "start_date": start}
                    for p in people
                ]
            },
            headers={"X-API-Key": employer["api_key"]},
        )
        person_ids = [i["person_id"] for i in added["items"]] if added else []
        person_ids += [unknown() for _ in range(size - len(person_ids))]
        for person_id in person_ids:
            t.sms["enrollment.registered", person_id] += 1
            t.postings.append(("account", person_id))

    async def contribution(self) -> None:
        t, m = self.tallies["contribution"], self.member()
        t.business += 1
        period = m.next_period()
        payment_id = f"DAY-{self.run}-{m.enrollment_id}-{period}"
        t.sms["enrollment.contribution_paid", m.person_id] += 1
        t.sms["account.credited", m.person_id] += 1
        t.postings.append(("ledger", f"contribution:{payment_id}"))
        await self.http.post(
            t,
            f"{ENROLLMENT}/contributions",
            {
                "payment_id": payment_id,
                "enrollment_id": m.enrollment_id,
                "period": period,
                "amount_fen": EMPLOYER_PART_FEN + PERSONAL_PART_FEN,
                "employer_part_fen": EMPLOYER_PART_FEN,
                "personal_part_fen": PERSONAL_PART_FEN,
            },
            caller=TAX_COLLECTION,
        )

    async def settlement(self, inpatient: bool) -> None:
        t, m, rng = self.tallies["settlement"], self.member(), self.rng
        t.business += 1
        his = rng.choice(list(HOSPITALS))
        if inpatient:  # a discharge: ~15,000 yuan
            visit = self.stay(self.day_back(0, 2), 14, (500_000, 2_300_000), 200_000)
        else:  # an outpatient visit: ~415 yuan
            visit = {
                "visit_type": "outpatient",
                "admission_date": self.day_back(0, 1).isoformat(),
                "diagnoses": [rng.choice(OUTPATIENT_DIAGNOSES)],
                "eligible_fen": rng.randint(10_000, 70_000),
                "ineligible_fen": rng.randint(0, 3_000),
            }
        t.sms["reimbursement.settled", m.person_id] += 1
        settled = await self.http.post(
            t,
            f"{REIMBURSEMENT}/settlements",
            {
                "person_id": m.person_id,
                "institution_code": HOSPITALS[his],
                **visit,
                "invoice_no": self.key("DAYS"),
            },
            caller=his,
        )
        t.postings.append(("settlement", settled["settlement_id"] if settled else unknown()))
        if settled:
            t.settled_fen += settled["split"]["total_fen"]

    async def claim(self) -> None:
        """An emergency admission in Sanya, paid out of pocket, claimed and paid."""
        t, m = self.tallies["claim"], self.member()
        t.business += 1
        for template in ("claim_submitted", "claim_approved", "claim_paid"):
            t.sms[f"reimbursement.{template}", m.person_id] += 1
        claimed = await self.http.post(
            t,
            f"{REIMBURSEMENT}/claims",
            {
                "person_id": m.person_id,
                "institution_code": SANYA_HOSPITAL,
                **self.stay(self.day_back(5, 20), 7, (300_000, 1_500_000), 100_000),
                "invoice_no": self.key("DAYC"),
                "emergency": True,
            },
            caller=AGENCY,
        )
        paid = None
        if claimed and claimed["status"] == "approved":
            paid = await self.http.post(
                t,
                f"{REIMBURSEMENT}/claims/{claimed['claim_id']}/pay",
                {"payment_reference": self.key("BANK")},
                caller=AGENCY,
            )
        elif claimed:
            t.failures[f"claim {claimed['status']}: {claimed.get('rule')}"] += 1
        t.postings.append(("claim_paid", paid["claim_id"] if paid else unknown()))

    async def filing(self) -> None:
        t, m = self.tallies["filing"], self.member()
        t.business += 1
        t.sms["remote_care.filed", m.person_id] += 1
        filed = await self.http.post(
            t,
            f"{REMOTE_CARE}/persons/{m.person_id}/filings",
            {
                "filing_type": "temporary",
                "category": self.rng.choice(("referral", "self_referred")),
                "destination_region": self.rng.choice(DESTINATIONS),
                "commitment": True,
            },
            caller=AGENCY,
        )
        t.postings.append(("filing_view", filed["filing_id"] if filed else unknown()))

    async def pharmacy(self) -> None:
        t, m = self.tallies["pharmacy"], self.member()
        t.business += 1
        key = self.key("POS")
        t.sms["account.debited", m.person_id] += 1
        t.postings.append(("ledger", key))
        await self.http.post(
            t,
            f"{ACCOUNTS}/accounts/{m.person_id}/debits",
            {
                "merchant_code": PHARMACY_CODE,
                "merchant_kind": "pharmacy",
                "amount_fen": self.rng.randint(500, 8_000),
                "spender_person_id": m.person_id,
            },
            caller=PHARMACY,
            headers={"Idempotency-Key": key},
        )

    def operations(self, counts: dict[str, int]) -> list[Callable[[], Awaitable[None]]]:
        """The day's operations, shuffled."""
        ops: list[Callable[[], Awaitable[None]]] = []
        for business in ON_POOL:
            if business != "settlement":
                ops += [getattr(self, business)] * counts[business]
        discharges = round(counts["settlement"] * INPATIENT_SHARE)
        ops += [functools.partial(self.settlement, True)] * discharges
        ops += [functools.partial(self.settlement, False)] * (counts["settlement"] - discharges)
        ops += [self.enrollment] * counts["enrollment"]
        staff, batch = counts["staff"], 0
        while staff > 0:
            size = min(STAFF_BATCH, staff)
            employer = self.employers[batch // BATCHES_PER_EMPLOYER]
            ops.append(functools.partial(self.staff, employer, size))
            staff, batch = staff - size, batch + 1
        self.rng.shuffle(ops)
        return ops


async def run_operations(
    ops: list[Callable[[], Awaitable[None]]], rate: float, in_flight: int
) -> None:
    """Started at ``rate`` operations a second (0: as fast as they go), at most ``in_flight``
    at a time (an operation waits for a slot: the offered rate then falls behind)."""
    slots, running, started = asyncio.Semaphore(in_flight), set(), time.perf_counter()

    def finished(task: asyncio.Task) -> None:
        running.discard(task)
        slots.release()

    for index, op in enumerate(ops):
        if rate:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        await slots.acquire()
        task = asyncio.ensure_future(op())
        running.add(task)
        task.add_done_callback(finished)
    await asyncio.gather(*running)


# --- set-up ----------------------------------------------------------------------------------


def counts_of(factor: float) -> dict[str, int]:
    return {b: max(1, round(per_day * factor)) for b, (per_day, _) in DAY.items()}


async def set_up(
    http: Http, counts: dict[str, int], pools: dict[str, asyncpg.Pool], run: str, in_flight: int
) -> tuple[list[Member], list[dict], list[Person]]:
    on_pool = sum(counts[b] for b in ON_POOL)
    size = max(20, math.ceil(on_pool / 10))
    batches = math.ceil(counts["staff"] / STAFF_BATCH)
    print(f"set-up: {size} insured employees (370200) with an opening balance …", flush=True)
    async with client() as setup:
        pool = [Member(p, e) for p, e in await employees(setup, size, region_code=QINGDAO)]
        employers = [
            (
                await setup.post(
                    f"{ENROLLMENT}/employers",
                    headers={"X-Admin-Token": ADMIN_TOKEN},
                    json={"name": f"省日基准{run}{n:03d}有限公司", "region_code": QINGDAO},
                )
            ).json()
            for n in range(math.ceil(batches / BATCHES_PER_EMPLOYER))
        ]
    opening, slots = Tally(), asyncio.Semaphore(in_flight)

    async def fund(m: Member) -> None:
        async with slots:
            await http.post(
                opening,
                f"{ENROLLMENT}/contributions",
                {
                    "payment_id": f"DAY-{run}-{m.enrollment_id}-202001",
                    "enrollment_id": m.enrollment_id,
                    "period": "202001",
                    "amount_fen": EMPLOYER_PART_FEN + OPENING_PERSONAL_FEN,
                    "employer_part_fen": EMPLOYER_PART_FEN,
                    "personal_part_fen": OPENING_PERSONAL_FEN,
                },
                caller=TAX_COLLECTION,
            )

    await asyncio.gather(*(fund(m) for m in pool))
    if opening.failures:
        sys.exit(f"opening contributions refused: {opening.failures.most_common(3)}")
    enrollment_ids = [m.enrollment_id for m in pool]
    person_ids = [m.person_id for m in pool]
    caught_up = (
        (pools["chs_reimbursement"], "enrollment_view", "enrollment_id", enrollment_ids),
        (pools["chs_remote_care"], "enrollment_view", "enrollment_id", enrollment_ids),
        (pools["chs_accounts"], "accounts", "person_id", person_ids),
    )
    deadline = time.monotonic() + 300
    for db, table, column, keys in caught_up:
        while await db.fetchval(
            f"select count(*) from {table} where {column} = any($1)", keys
        ) < len(keys):
            if time.monotonic() > deadline:
                sys.exit(f"set-up: {table} did not catch up")
            await asyncio.sleep(1)
    while await pools["chs_accounts"].fetchval(
        "select count(*) from accounts where person_id = any($1) and balance_fen > 0", person_ids
    ) < len(person_ids):
        if time.monotonic() > deadline:
            sys.exit("set-up: the opening contributions were not credited")
        await asyncio.sleep(1)
    await until_quiet(pools["chs_notification"])
    return pool, employers, await fresh_people(pools["chs_enrollment"], counts)


async def fresh_people(enrollment: asyncpg.Pool, counts: dict[str, int]) -> list[Person]:
    """The day's new people: none of them registered by an earlier run."""
    wanted = counts["enrollment"] + counts["staff"]
    drawn = new_people(wanted + wanted // 10 + 10)
    known = {
        row[0]
        for row in await enrollment.fetch(
            "select id_number from persons where id_number = any($1)",
            [p.id_number for p in drawn],
        )
    }
    return [p for p in drawn if p.id_number not in known][:wanted]


# --- checking what arrived --------------------------------------------------------------------


async def sms_arrived(
    notification: asyncpg.Pool, since: datetime, people: list[str]
) -> Counter[tuple[str, str]]:
    rows = await notification.fetch(
        """select m.template_id, m.person_id, count(*) as n from messages m
           join local_gateway_sms g using (message_id)
           where m.created_at >= $1 and m.person_id = any($2)
           group by 1, 2""",
        since,
        people,
    )
    return Counter({(r["template_id"], r["person_id"]): r["n"] for r in rows})


async def postings_arrived(
    pools: dict[str, asyncpg.Pool], wanted: dict[str, set[str]]
) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for kind, keys in wanted.items():
        database, query = POSTINGS[kind]
        rows = await pools[database].fetch(query, list(keys))
        found[kind] = {row[0] for row in rows}
    return found


@dataclass
class Arrivals:
    sms: Counter[tuple[str, str]]
    postings: dict[str, set[str]]
    seconds: float

    def sms_of(self, t: Tally) -> int:
        return sum(min(n, self.sms[k]) for k, n in t.sms.items())

    def postings_of(self, t: Tally) -> int:
        return sum(1 for kind, key in t.postings if key in self.postings.get(kind, ()))

    def count(self) -> int:
        return sum(self.sms.values()) + sum(len(keys) for keys in self.postings.values())

    def complete(self, tallies: dict[str, Tally]) -> bool:
        return all(
            self.sms_of(t) == sum(t.sms.values()) and self.postings_of(t) == len(t.postings)
            for t in tallies.values()
        )


async def wait_for_arrivals(
    pools: dict[str, asyncpg.Pool],
    tallies: dict[str, Tally],
    since: datetime,
    started: float,
    timeout: float,
    quiet: float,
) -> Arrivals:
    """Until everything expected arrived, nothing more arrived for ``quiet`` seconds, or
    ``timeout`` passed; ``seconds`` is from ``started`` to the poll that saw the last arrival."""
    people = sorted({p for t in tallies.values() for _, p in t.sms if not p.startswith("?")})
    wanted: dict[str, set[str]] = {}
    for t in tallies.values():
        for kind, key in t.postings:
            wanted.setdefault(kind, set()).add(key)
    deadline, seen, last_seen = time.monotonic() + timeout, -1, time.perf_counter()
    while True:
        arrivals = Arrivals(
            await sms_arrived(pools["chs_notification"], since, people),
            await postings_arrived(pools, wanted),
            0.0,
        )
        now, count = time.perf_counter(), arrivals.count()
        if count != seen:
            seen, last_seen = count, now
        arrivals.seconds = last_seen - started
        if arrivals.complete(tallies) or now - last_seen > quiet or time.monotonic() > deadline:
            return arrivals
        await asyncio.sleep(0.5)  # (a poll of a whole day's keys takes longer than that)


# --- the table --------------------------------------------------------------------------------


def p95_ms(seconds: list[float]) -> str:
    """The 95th percentile of the requests' answer times, in ms."""
    if len(seconds) < 2:
        return f"{seconds[0] * 1000:.0f}" if seconds else "-"
    return f"{statistics.quantiles(seconds, n=20, method='inclusive')[18] * 1000:.0f}"


def print_table(
    tallies: dict[str, Tally],
    arrivals: Arrivals,
    sending: float,
    factor: float,
) -> bool:
    print(
        f"\n{'business':13} {'events':>8} {'requests':>9} {'OK':>8} {'SMS exp.':>9} "
        f"{'arrived':>8} {'postings':>9} {'arrived':>8} {'p95 ms':>7}"
    )
    print("-" * 88)
    total = Tally()
    for name, t in tallies.items():
        sms, postings = arrivals.sms_of(t), arrivals.postings_of(t)
        print(
            f"{name:13} {t.business:8d} {t.requests:9d} {t.ok:8d} {sum(t.sms.values()):9d} "
            f"{sms:8d} {len(t.postings):9d} {postings:8d} {p95_ms(t.answer_seconds):>7}"
        )
        total.business += t.business
        total.requests += t.requests
        total.ok += t.ok
        total.sms += t.sms
        total.postings += t.postings
        total.answer_seconds += t.answer_seconds
    print("-" * 88)
    sms_total, postings_total = arrivals.sms_of(total), arrivals.postings_of(total)
    print(
        f"{'the day':13} {total.business:8d} {total.requests:9d} {total.ok:8d} "
        f"{sum(total.sms.values()):9d} {sms_total:8d} {len(total.postings):9d} "
        f"{postings_total:8d} {p95_ms(total.answer_seconds):>7}"
    )
    expected_people = {p for _, p in total.sms}
    unexpected = sum(
        max(0, n - total.sms[k]) for k, n in arrivals.sms.items() if k[1] in expected_people
    )
    settled = tallies["settlement"].settled_fen / 100
    print(
        f"\nfactor {factor:g} of the field's day; settled {settled:,.2f} yuan "
        f"(the field's 640 M yuan × factor: {FIELD_SETTLED_YUAN * factor:,.0f})"
    )
    print(
        f"sending: {sending:.1f} s ({total.requests / sending:.0f} requests/s); "
        f"first request → last arrival: {arrivals.seconds:.1f} s, "
        f"{total.business / arrivals.seconds:.1f} business events/s, "
        f"{sms_total / arrivals.seconds:.1f} SMS/s"
    )
    if unexpected:
        print(f"unexpected SMS to the day's people: {unexpected}")
    for name, t in tallies.items():
        for problem, n in t.failures.most_common(3):
            print(f"  {name}: {n} × {problem}")
    complete = (
        total.ok == total.requests
        and sms_total == sum(total.sms.values())
        and postings_total == len(total.postings)
    )
    print(
        "every expected SMS and posting arrived"
        if complete
        else "MISSING: not every expected SMS and posting arrived"
    )
    return complete


async def main(arguments: argparse.Namespace) -> bool:
    settings = PlatformSettings()
    run = uuid.uuid4().hex[:6]
    counts = counts_of(arguments.factor)
    databases = (
        "chs_notification",
        "chs_accounts",
        "chs_reimbursement",
        "chs_remote_care",
        "chs_enrollment",
    )
    pools = {
        db: await asyncpg.create_pool(
            dsn_for_database(settings.database_url, db), min_size=1, max_size=2
        )
        for db in databases
    }
    print(
        f"province day run {run}, factor {arguments.factor:g} of the field's day:\n"
        + "\n".join(f"  {b:13} {n:8d}  {DAY[b][1]}" for b, n in counts.items()),
        flush=True,
    )
    callers = Callers()
    # The APIs close connections idle for 5 s: the driver lets them go after 2.
    connector = aiohttp.TCPConnector(limit=128, keepalive_timeout=2)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            http = Http(session, callers)
            pool, employers, people = await set_up(http, counts, pools, run, arguments.in_flight)
            today = datetime.now(CHINA).date()
            day = Day(http, random.Random(arguments.seed), pool, employers, people, run, today)
            ops = day.operations(counts)
            pace = f"{arguments.rate:g} operations/s" if arguments.rate else "as fast as it goes"
            print(
                f"the day: {len(ops)} operations, {pace} ({arguments.in_flight} in flight) …",
                flush=True,
            )
            since, started = datetime.now(CHINA), time.perf_counter()
            await run_operations(ops, arguments.rate, arguments.in_flight)
            sending = time.perf_counter() - started
            print(f"sent in {sending:.1f} s; waiting for the SMS and postings …", flush=True)
            timeout = arguments.timeout or 120 + len(ops) / 5
            arrivals = await wait_for_arrivals(
                pools, day.tallies, since, started, timeout, arguments.quiet
            )
    except (aiohttp.ClientConnectionError, httpx.ConnectError) as error:
        sys.exit(f"the platform does not answer ({error!r}): make up first")
    finally:
        for p in pools.values():
            await p.close()
    return print_table(day.tallies, arrivals, sending, arguments.factor)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--factor", type=float, default=0.001, help="share of the field's day (0.01: CI size)"
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="operations started a second (0: as fast as it can)"
    )
    parser.add_argument("--in-flight", type=int, default=32, help="concurrent operations")
    parser.add_argument("--seed", type=int, default=None, help="of the day's random mix")
    parser.add_argument(
        "--timeout", type=float, default=0, help="seconds to wait for arrivals (0: by the size)"
    )
    parser.add_argument(
        "--quiet", type=float, default=60, help="stop waiting after as many seconds without news"
    )
    sys.exit(0 if asyncio.run(main(parser.parse_args())) else 1)
