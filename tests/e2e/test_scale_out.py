"""Scale-out: two instances of every worker, of notification-dispatch and of progress-notices
(one consumer group, two members; two relays per database, one publishing and one standing by)
under a stream of contributions. One instance of each is SIGKILLed in the middle of the stream
and not restarted: its partitions move to the other member and the relay lock to the other
relay. Every SMS arrives exactly once, every account credit is posted exactly once, and each
person's credits apply in the order of the months paid. Then one more instance of each joins
under a steady stream (scaling out): the members that hand it partitions keep running.

A platform of its own (own topic prefix and databases): the session's stays untouched."""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import asyncpg
import pytest
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.protocol.admin import DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request

from chs_events.admin import delete_topics, ensure_topics
from chs_events.settings import dsn_for_database
from chs_events.vocabulary import yuan
from tests.e2e.conftest import _drop_databases, procfile_processes
from tests.e2e.people import Person, staff_in_qingdao
from tests.support.broker import until
from tests.support.platform import Platform
from tests.support.tokens import EnrollmentCallers

PEOPLE = 30
MONTHS = ["202601", "202602", "202603", "202604", "202605"]
# Employees of 35 to 44 (born 1983–1989, paid in 2026): the personal part and 5 % of the
# employer's part, 130.00 + 29.25 yuan a month.
PERSONAL_PART, EMPLOYER_PART = 13000, 58500
CREDIT = PERSONAL_PART + EMPLOYER_PART * 5 // 100
BORN_OVER_DAYS = 6 * 365
# The kill comes after two months were recorded and some of their SMS went out; the fourth
# and fifth months are paid after it, while the partitions and relay locks move.
KILL_AFTER = PEOPLE * 2
KILLED_BY = 3
JOINING_PEOPLE = 20
# Every consumer group the doubled processes run (docs/ARCHITECTURE.md, section 1).
GROUPS = (
    "enrollment-transfers",
    "enrollment-deaths",
    "accounts-ledger",
    "remote-care-enrollments",
    "remote-care-settlements",
    "chronic-settlements",
    "transfer-enrollments",
    "transfer-ledger",
    "maternity-enrollments",
    "maternity-settlements",
    "reimbursement-enrollments",
    "reimbursement-filings",
    "progress-notices",
    "account-notices",
    "notification-directory",
    "notification-requests",
)
RELAY_STARTED = "outbox relay publishing"


def doubled() -> list[tuple[str, str, str, str]]:
    """Every process of the Procfile but the APIs: the workers, the dispatcher, the processor."""
    return [process for process in procfile_processes() if process[2] != "api"]


def second(name: str) -> str:
    return f"{name}-2"


def third(name: str) -> str:
    return f"{name}-3"


@pytest.fixture(scope="module")
def platform(kafka_bootstrap, database_url):
    """Every API once, every other process twice (``<name>`` and ``<name>-2``): overrides the
    session's platform for this module, so the conftest's callers talk to this one."""
    platform = Platform(kafka_bootstrap, database_url)
    asyncio.run(ensure_topics(kafka_bootstrap, platform.prefix))
    for name, module, command, service in procfile_processes():
        platform.add(name, module, command, service)
    for name, module, command, service in doubled():
        platform.add(second(name), module, command, service)
    platform.start()
    try:
        platform.wait_ready(timeout=300)  # 27 processes start on busy cores
        asyncio.run(_every_group_has_two_members(platform, timeout=180))
        yield platform
    finally:
        platform.stop()
        asyncio.run(_drop_databases(platform, database_url))
        asyncio.run(delete_topics(kafka_bootstrap, platform.prefix))


async def _every_group_has_two_members(platform: Platform, timeout: float) -> None:
    """Both instances joined every group (and the group settled) before the stream starts: a
    killed instance then held partitions. DescribeGroups v2 asked directly: aiokafka's admin
    asks v3 and decodes the answer as v2 (DescribeGroupsRequest_v3.RESPONSE_TYPE), which fails
    once a group has members."""
    client = AIOKafkaClient(bootstrap_servers=platform.kafka_bootstrap)
    await client.bootstrap()
    try:

        async def settled() -> bool:
            for group in (platform.prefix + name for name in GROUPS):
                coordinator = await client.coordinator_lookup(CoordinationType.GROUP, group)
                response = await client.send(coordinator, DescribeGroupsV2([group]))
                [(_, _, state, _, _, members)] = response.groups
                if state != "Stable" or len(members) != 2:
                    return False
            return True

        await until(settled, timeout=timeout, interval=1.0)
    finally:
        await client.close()


class DescribeGroupsV2(Request[DescribeGroupsRequest_v2]):
    API_KEY = DescribeGroupsRequest_v2.API_KEY

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(
        self, request_struct_class: type[DescribeGroupsRequest_v2]
    ) -> DescribeGroupsRequest_v2:
        return request_struct_class(self._groups)


def relay_leader(platform: Platform, name: str) -> str | None:
    """Which instance of the worker ``name`` holds its database's relay lock (it logs when it
    starts publishing), or None before either does."""
    for instance in (name, second(name)):
        if RELAY_STARTED in platform.processes[instance].log_file.read_text(errors="replace"):
            return instance
    return None


@pytest.fixture
async def enrollment(platform):
    async with EnrollmentCallers(base_url=platform.url("enrollment"), timeout=30) as client:
        yield client


@asynccontextmanager
async def database_of(platform: Platform, service: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        dsn_for_database(platform.database_url, platform.database_name(service))
    )
    try:
        yield conn
    finally:
        await conn.close()


def payment_id(run: str, index: int, period: str) -> str:
    return f"SC-{run}-{index:02d}-{period}"


async def pay(enrollment, run: str, index: int, item: dict, period: str, paid: list[str]) -> None:
    response = await enrollment.post(
        "/contributions",
        json={
            "payment_id": payment_id(run, index, period),
            "enrollment_id": item["enrollment_id"],
            "period": period,
            "amount_fen": PERSONAL_PART + EMPLOYER_PART,
            "employer_part_fen": EMPLOYER_PART,
            "personal_part_fen": PERSONAL_PART,
        },
    )
    assert response.status_code == 201, response.text
    paid.append(payment_id(run, index, period))


async def pay_in_order(
    enrollment, run: str, items: list[dict], paid: list[str], killing: asyncio.Event
) -> None:
    """Month after month; within a month every person at once, each month of a person only
    after the previous one was recorded. The months from KILLED_BY on wait until the killing
    begins: they are paid while the killed instances' partitions and relay locks move."""
    for month, period in enumerate(MONTHS):
        if month == KILLED_BY:
            await killing.wait()
        await asyncio.gather(
            *(pay(enrollment, run, index, item, period, paid) for index, item in enumerate(items))
        )
        await asyncio.sleep(0.5)


async def pay_steadily(
    enrollment, run: str, items: list[dict], paid: list[str], interval: float
) -> None:
    """Month after month, one contribution every ``interval`` seconds: the consumers always
    have something in hand."""
    for period in MONTHS:
        for index, item in enumerate(items):
            await pay(enrollment, run, index, item, period, paid)
            await asyncio.sleep(interval)


async def staff(enrollment, rng: random.Random, count: int) -> list[dict]:
    """``count`` employees of 35 to 44 of a new Qingdao employer (born over 1983–1988), with
    mobiles of their own."""
    base = rng.randrange(100, 999)
    people = [
        Person.make(rng, born=date(1983, 1, 1) + timedelta(days=index * BORN_OVER_DAYS // count))
        for index in range(count)
    ]
    for index, person in enumerate(people):
        person.mobile = f"1866{base}{index:04d}"
    items = await staff_in_qingdao(enrollment, *people)
    assert len({item["person_id"] for item in items}) == count
    return items


def expected_sms(people: int) -> int:
    return people * (1 + 2 * len(MONTHS))  # registered; per month paid and credited


async def until_everything_arrived(
    platform: Platform, person_ids: list[str], running: list[str]
) -> None:
    """Every SMS of ``person_ids`` sent, and a few seconds more for a duplicate to show up;
    every process of ``running`` alive all along."""
    async with database_of(platform, "notification") as notification_db:

        async def all_arrived():
            _alive(platform, running)
            return await _sms_count(notification_db, person_ids) >= expected_sms(len(person_ids))

        await until(all_arrived, timeout=240, interval=1.0)
        await asyncio.sleep(3.0)
        _alive(platform, running)


async def assert_once_and_in_order(platform: Platform, run: str, person_ids: list[str]) -> None:
    """Every SMS sent once, every contribution credited once, each person's credits in the
    order of the months paid, and each SMS telling the balance after its own month."""
    async with (
        database_of(platform, "notification") as notification_db,
        database_of(platform, "accounts") as accounts_db,
    ):
        sms = await notification_db.fetch(
            """select m.person_id, m.template_id,
                      coalesce(m.params->>'period_text', m.params->>'period', '') as period,
                      count(*) as sent
               from messages m join local_gateway_sms s on s.message_id = m.message_id
               where m.person_id = any($1)
               group by 1, 2, 3""",
            person_ids,
        )
        told = await notification_db.fetch(
            """select person_id, params->>'period_text' as period,
                      params->>'balance_yuan' as balance
               from messages where person_id = any($1) and template_id = 'account.credited'""",
            person_ids,
        )
        ledger = await accounts_db.fetch(
            """select a.person_id, t.reference, t.amount_fen, t.balance_after_fen,
                      (select count(*) from postings p where p.transaction_id = t.transaction_id)
                        as postings
               from ledger_transactions t join accounts a on a.account_id = t.account_id
               where a.person_id = any($1) and t.kind = 'credit'""",
            person_ids,
        )
        balances = dict(
            await accounts_db.fetch(
                "select person_id, balance_fen from accounts where person_id = any($1)",
                person_ids,
            )
        )

    duplicates = [dict(row) for row in sms if row["sent"] != 1]
    assert not duplicates, f"SMS sent more than once: {duplicates}"
    month_texts = [f"{period[:4]}年{int(period[4:])}月" for period in MONTHS]
    assert {(r["person_id"], r["template_id"], r["period"]) for r in sms} == {
        (person_id, template, period)
        for person_id in person_ids
        for template, periods in (
            ("enrollment.registered", [""]),
            ("enrollment.contribution_paid", month_texts),
            ("account.credited", month_texts),
        )
        for period in periods
    }

    by_payment: dict[str, list] = {}
    for row in ledger:
        by_payment.setdefault(row["reference"], []).append(row)
    assert set(by_payment) == {
        payment_id(run, index, period) for index in range(len(person_ids)) for period in MONTHS
    }
    assert {len(rows) for rows in by_payment.values()} == {1}, "a contribution credited twice"
    assert {row["postings"] for row in ledger} == {2}
    assert {row["amount_fen"] for row in ledger} == {CREDIT}
    assert balances == {person_id: CREDIT * len(MONTHS) for person_id in person_ids}
    for index, person_id in enumerate(person_ids):
        after = [
            by_payment[payment_id(run, index, period)][0]["balance_after_fen"] for period in MONTHS
        ]
        assert after == [CREDIT * month for month in range(1, len(MONTHS) + 1)], (
            f"credits of {person_id} applied out of the order of the months: {after}"
        )

    assert {(r["person_id"], r["period"], r["balance"]) for r in told} == {
        (person_id, text, yuan(CREDIT * month))
        for person_id in person_ids
        for month, text in enumerate(month_texts, start=1)
    }


async def test_two_instances_of_everything_one_killed_each_event_once_in_order(
    platform, enrollment
):
    rng = random.Random()
    run = f"{rng.randrange(16**6):06x}"
    items = await staff(enrollment, rng, PEOPLE)
    person_ids = [item["person_id"] for item in items]

    async def relay_leaders():
        leaders = {
            name: relay_leader(platform, name) for name, *_ in doubled() if "-worker" in name
        }
        return leaders if all(leaders.values()) else None

    leaders = await until(relay_leaders, timeout=60, interval=0.5)
    running = [name for name, process in platform.processes.items() if process.popen]

    paid: list[str] = []
    started = time.monotonic()
    killing = asyncio.Event()
    stream = asyncio.create_task(pay_in_order(enrollment, run, items, paid, killing))
    async with database_of(platform, "notification") as notification_db:

        async def under_way() -> bool:  # contributions' SMS, not only the registrations'
            return (
                len(paid) >= KILL_AFTER and await _sms_count(notification_db, person_ids) > PEOPLE
            )

        await until(under_way, timeout=120, interval=0.2)
        sms_at_kill = await _sms_count(notification_db, person_ids)
    # the relay's leader (which holds consumers too) of each worker; one of each of the others
    killed = [leaders.get(name) or name for name, *_ in doubled() if name != "progress-notices"]
    killed.append(second("progress-notices"))
    killing.set()
    paid_at_kill = len(paid)
    for name in killed:
        platform.kill(name)
    await stream
    paid_after_kill = len(paid) - paid_at_kill

    await until_everything_arrived(
        platform, person_ids, [name for name in running if name not in killed]
    )
    arrived = time.monotonic() - started
    for name, leader in leaders.items():  # every relay lock moved to the surviving instance
        assert relay_leader_of(platform, name, not_=leader), f"no relay of {name} took over"
    await assert_once_and_in_order(platform, run, person_ids)

    assert sms_at_kill < expected_sms(PEOPLE) and paid_after_kill > 0  # the kill was mid-stream
    print(
        f"killed {', '.join(killed)} after {paid_at_kill} of {len(paid)} contributions "
        f"({sms_at_kill} of {expected_sms(PEOPLE)} SMS out); {paid_after_kill} paid after, "
        f"while their partitions moved; everything arrived, once, {arrived:.0f} s after the "
        "stream began"
    )


async def test_an_instance_joining_under_load_takes_partitions_and_fails_nothing(
    platform, enrollment
):
    """Scaling out under load: one more instance of every doubled process joins while the
    stream runs; the members that hand partitions to it keep running, nothing is applied twice
    or out of order."""
    rng = random.Random()
    run = f"{rng.randrange(16**6):06x}"
    items = await staff(enrollment, rng, JOINING_PEOPLE)
    person_ids = [item["person_id"] for item in items]
    running = [
        name for name, process in platform.processes.items() if process.process.poll() is None
    ]

    paid: list[str] = []
    stream = asyncio.create_task(pay_steadily(enrollment, run, items, paid, interval=0.25))
    await until(lambda: _at_least(paid, JOINING_PEOPLE // 2), timeout=120)
    joined = []
    for name, module, command, service in doubled():
        platform.add(third(name), module, command, service)
        platform.processes[third(name)].start()
        joined.append(third(name))
    await stream
    assert all(platform.processes[name].process.poll() is None for name in joined)

    await until_everything_arrived(platform, person_ids, running + joined)
    await assert_once_and_in_order(platform, run, person_ids)


def relay_leader_of(platform: Platform, name: str, *, not_: str | None) -> bool:
    """The instance of ``name`` other than ``not_`` has started publishing."""
    other = second(name) if not_ == name else name
    return RELAY_STARTED in platform.processes[other].log_file.read_text(errors="replace")


def _alive(platform: Platform, names: list[str]) -> None:
    for name in names:
        process = platform.processes[name].process
        assert process.poll() is None, (
            f"{name} exited with {process.returncode}; see {platform.processes[name].log_file}"
        )


async def _sms_count(notification_db: asyncpg.Connection, person_ids: list[str]) -> int:
    return await notification_db.fetchval(
        """select count(*) from local_gateway_sms s join messages m on m.message_id = s.message_id
           where m.person_id = any($1)""",
        person_ids,
    )


async def _at_least(items: list, count: int) -> bool:
    return len(items) >= count
