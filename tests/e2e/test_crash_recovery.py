"""SIGKILL the outbox relay, the consumers, the processor and the dispatcher in the middle of a
stream of enrollments, restart them: no event is lost and no SMS is sent twice."""

import asyncio
import random

from tests.e2e.people import Person
from tests.support.broker import until

PEOPLE = 40
KILL_AFTER = 12
# The enrollment worker holds its outbox relay; the notification worker its consumers.
KILLED = ["enrollment-worker", "notification-worker", "notification-dispatch", "progress-notices"]


async def enroll_residents(enrollment, people: list[Person], registered: list[str]) -> None:
    for person in people:
        response = await enrollment.post("/persons", json=person.as_json())
        assert response.status_code == 201, response.text
        person_id = response.json()["person_id"]
        response = await enrollment.post(
            f"/persons/{person_id}/enrollments",
            json={"insutype": "390", "pooling_region": "370200"},
        )
        assert response.status_code == 201, response.text
        registered.append(person_id)
        await asyncio.sleep(0.05)


async def test_killed_processes_lose_no_event_and_send_no_sms_twice(
    platform, enrollment, notification_db
):
    rng = random.Random()
    base = rng.randrange(100, 999)
    people = [Person.make(rng) for _ in range(PEOPLE)]
    for index, person in enumerate(people):
        person.mobile = f"1865{base}{index:04d}"
    mobiles = [p.mobile for p in people]
    registered: list[str] = []

    async def sms_rows():
        return await notification_db.fetch(
            "select mobile, count(*) as sent from local_gateway_sms where mobile = any($1) "
            "group by mobile",
            mobiles,
        )

    stream = asyncio.create_task(enroll_residents(enrollment, people, registered))
    await until(lambda: _at_least(registered, KILL_AFTER), timeout=60)
    for name in KILLED:
        platform.kill(name)
    sms_at_kill = sum(row["sent"] for row in await sms_rows())
    requests_at_kill = len(registered)
    await asyncio.sleep(2.0)  # requests keep coming while the workers are dead
    requests_while_dead = len(registered) - requests_at_kill
    for name in KILLED:
        platform.restart(name)
    await stream

    async def everyone_got_one():
        rows = await sms_rows()
        return rows if len(rows) == PEOPLE else None

    rows = await until(everyone_got_one, timeout=180, interval=0.5)
    await asyncio.sleep(3.0)  # time for a duplicate to show up, were one coming
    rows = await sms_rows()

    assert sms_at_kill < PEOPLE and requests_while_dead > 0  # the kill was mid-stream
    assert sorted(row["mobile"] for row in rows) == sorted(mobiles)
    assert {row["sent"] for row in rows} == {1}
    messages = await notification_db.fetch(
        "select person_id, count(*) as n from messages where person_id = any($1) "
        "and template_id = 'enrollment.registered' group by person_id",
        registered,
    )
    assert len(messages) == PEOPLE and {m["n"] for m in messages} == {1}
    print(
        f"killed {', '.join(KILLED)} after {requests_at_kill} of {PEOPLE} people "
        f"({sms_at_kill} SMS out); {requests_while_dead} enrolled while they were dead"
    )


async def _at_least(items: list, count: int) -> bool:
    return len(items) >= count
