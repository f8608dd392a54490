"""The broker and the database server restart under a stream of contributions (more than 2,000
business events: registrations, enrollments, contributions paid, account credits): the platform
rides both out without a process exiting; every event is applied once, and every SMS is submitted
to the gateway exactly once, counted at the gateway's submit call (``submissions``), where a
resend of the same message would show.

While PostgreSQL is down the APIs answer 503 (or the connection fails) and the employer's
system retries with the same ``payment_id``, which the enrollment service records once."""

import asyncio
import random
import time

import httpx

from tests.e2e.test_scale_out import (
    EMPLOYER_PART,
    MONTHS,
    PERSONAL_PART,
    _alive,
    _sms_count,
    assert_once_and_in_order,
    database_of,
    expected_sms,
    payment_id,
    staff,
)
from tests.support.broker import until

PEOPLE = 200  # 200 × (registered, enrolled, 5 × (paid, credited)) = 2,400 business events
IN_FLIGHT = 16
DOWN_SECONDS = 3.0
# (the month paid while the server restarts, its script): the broker after two months were
# recorded, the database after the third.
RESTARTS = ((2, "kafka.sh"), (3, "postgres.sh"))


async def pay_until_recorded(enrollment, run: str, index: int, item: dict, period: str) -> int:
    """Pay one month, retrying through outages; returns how many tries it took."""
    body = {
        "payment_id": payment_id(run, index, period),
        "enrollment_id": item["enrollment_id"],
        "period": period,
        "amount_fen": PERSONAL_PART + EMPLOYER_PART,
        "employer_part_fen": EMPLOYER_PART,
        "personal_part_fen": PERSONAL_PART,
    }
    tries = 0
    while True:
        tries += 1
        try:
            response = await enrollment.post("/contributions", json=body)
        except httpx.TransportError:
            await asyncio.sleep(0.5)
            continue
        if response.status_code in (200, 201):  # 200: recorded by an earlier try
            return tries
        assert response.status_code == 503, response.text  # an outage, not a failure
        assert response.headers["content-type"] == "application/problem+json"
        await asyncio.sleep(0.5)


async def pay_every_month(
    enrollment, run: str, items: list[dict], paid: list[int], gates: dict[int, asyncio.Event]
) -> None:
    """Month after month, each person's month after the previous one was recorded; the month
    of index ``n`` in ``gates`` waits for its gate, which opens as a server goes down, so that
    each restart comes with work still to do."""
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def pay(index: int, item: dict, period: str) -> None:
        async with slots:
            paid.append(await pay_until_recorded(enrollment, run, index, item, period))

    for month, period in enumerate(MONTHS):
        if month in gates:
            await gates[month].wait()
        await asyncio.gather(*(pay(index, item, period) for index, item in enumerate(items)))


async def test_the_broker_and_the_database_restart_mid_stream_each_event_once_each_sms_once(
    platform, enrollment, native_servers
):
    rng = random.Random()
    run = f"{rng.randrange(16**6):06x}"
    items = await staff(enrollment, rng, PEOPLE)
    person_ids = [item["person_id"] for item in items]
    running = [name for name, process in platform.processes.items() if process.popen]

    paid: list[int] = []
    started = time.monotonic()
    gates = {month: asyncio.Event() for month, _ in RESTARTS}
    stream = asyncio.create_task(pay_every_month(enrollment, run, items, paid, gates))
    restarts = []
    for month, script in RESTARTS:
        await until(lambda month=month: _at_least(paid, PEOPLE * month), timeout=300, interval=0.2)
        async with database_of(platform, "notification") as notification_db:
            sms_before = await _sms_count(notification_db, person_ids)
        restarts.append((script, len(paid), sms_before))
        gates[month].set()  # the next month is paid while the server is down and comes back
        await asyncio.to_thread(native_servers.stop, script)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(native_servers.start, script)
        _alive(platform, running)
    await stream

    async with database_of(platform, "notification") as notification_db:

        async def all_arrived():
            _alive(platform, running)
            return await _sms_count(notification_db, person_ids) >= expected_sms(PEOPLE)

        await until(all_arrived, timeout=600, interval=1.0)
        await asyncio.sleep(3.0)  # time for a duplicate to show up, were one coming
        submissions = await notification_db.fetch(
            """select s.submissions, count(*) as messages from local_gateway_sms s
               join messages m on m.message_id = s.message_id
               where m.person_id = any($1) group by 1""",
            person_ids,
        )
    arrived = time.monotonic() - started
    _alive(platform, running)
    await assert_once_and_in_order(platform, run, person_ids)

    assert {row["submissions"]: row["messages"] for row in submissions} == {
        1: expected_sms(PEOPLE)
    }, "a message was submitted to the gateway more than once"
    for script, paid_at, sms_at in restarts:  # each restart came mid-stream
        assert paid_at < PEOPLE * len(MONTHS) and sms_at < expected_sms(PEOPLE), script
    print(
        "restarted "
        + "; ".join(f"{s} after {p} contributions and {n} SMS" for s, p, n in restarts)
        + f"; {sum(paid) - len(paid)} contribution requests retried; "
        f"all {expected_sms(PEOPLE)} SMS arrived, each submitted once, {arrived:.0f} s after "
        "the stream began"
    )


async def _at_least(items: list, count: int) -> bool:
    return len(items) >= count
