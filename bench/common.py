"""What the benchmarks that drive the running platform share: fresh people, realm tokens,
employees of a new employer, and waiting until notification is quiet."""

import asyncio
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo_support import ADMIN_TOKEN, ENROLLMENT, ISSUER, Person, fake, id_number

from chs_events.envelope import KafkaRecord
from chs_events.kafka import create_producer
from chs_events.settings import PlatformSettings

BATCH = 500  # people per staff batch (the API takes up to 1,000)
STAFF_START = date(2020, 1, 1)


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=120,
        trust_env=False,
        limits=httpx.Limits(max_connections=128, max_keepalive_connections=128),
    )


async def publish_records(
    settings: PlatformSettings, topic: str, records: list[KafkaRecord], role: str
) -> None:
    """The records (``Envelope.to_record()``) sent to ``topic`` of the settings' stack, every
    acknowledgement awaited."""
    producer = create_producer(settings, role)
    await producer.start()
    try:
        deliveries = [
            await producer.send(settings.topic(topic), key=r.key, value=r.value, headers=r.headers)
            for r in records
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


def terminate(popen: subprocess.Popen) -> None:
    """Stop a process the benchmark started: SIGTERM, then SIGKILL after a minute."""
    popen.send_signal(signal.SIGTERM)
    try:
        popen.wait(60)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()


def new_people(count: int) -> list[Person]:
    """Fresh people with valid, distinct ID numbers (Qingdao, born 1960–1999)."""
    rng, seen = random.Random(), set()
    people: list[Person] = []
    while len(people) < count:
        birth = date.fromordinal(date(1960, 1, 1).toordinal() + rng.randrange(14600))
        number = id_number("370202", birth, female=rng.random() < 0.5)
        if number in seen:
            continue
        seen.add(number)
        people.append(
            Person(number, fake.name(), f"1385{rng.randrange(10**7):07d}", "370202", birth)
        )
    return people


def token(client_id: str) -> str:
    answer = httpx.post(
        f"{ISSUER}/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": f"dev-secret-{client_id}",
        },
        trust_env=False,
        timeout=60,  # the identity provider shares the cores with a loaded platform
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


async def employees(
    http: httpx.AsyncClient, count: int, region_code: str = "370202"
) -> list[tuple[str, str]]:
    """(person_id, enrollment_id) of ``count`` new employees of a new employer of
    ``region_code`` (their pooling region)."""
    employer = (
        await http.post(
            f"{ENROLLMENT}/employers",
            headers={"X-Admin-Token": ADMIN_TOKEN},
            json={"name": f"基准测试{uuid.uuid4().hex[:6]}有限公司", "region_code": region_code},
        )
    ).json()
    added: list[tuple[str, str]] = []
    people: list[Person] = []
    while len(added) < count:
        people = people or new_people(min(BATCH, count - len(added)))
        answer = await http.post(
            f"{ENROLLMENT}/employers/{employer['employer_id']}/staff/batch-add",
            headers={"X-API-Key": employer["api_key"]},
            json={
                "items": [
                    {
                        **p.registration,
                        "contribution_base_fen": 800_000,
                        "start_date": STAFF_START.isoformat(),
                    }
                    for p in people
                ]
            },
            timeout=120,
        )
        if answer.status_code != 200:  # e.g. an ID number an earlier run enrolled
            refused = refused_items(answer)
            print(
                f"  staff batch refused ({answer.status_code}, {len(refused) or 'all'} of "
                f"{len(people)} people); trying without them"
            )
            people = [p for n, p in enumerate(people) if refused and n not in refused]
            continue
        added += [(i["person_id"], i["enrollment_id"]) for i in answer.json()["items"]]
        people = []
    return added


def refused_items(answer: httpx.Response) -> set[int]:
    """The indexes of the items a refused batch names (``items.<n>…`` in its errors)."""
    try:
        errors = answer.json().get("errors") or []
    except ValueError:
        return set()
    return {
        int(e["field"].split(".")[1])
        for e in errors
        if str(e.get("field", "")).startswith("items.") and e["field"].split(".")[1].isdigit()
    }


async def until_quiet(notification: asyncpg.Pool, timeout: float = 600) -> None:
    """Until notification has nothing queued (but push deferred out of the quiet hours) and
    its gateway count stops moving."""
    deadline, last = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        queued = await notification.fetchval(
            """select count(*) from messages
               where status = 'queued' and (not_before is null or not_before <= now())"""
        )
        sent = await notification.fetchval("select count(*) from local_gateway_sms")
        if queued == 0 and sent == last:
            return
        last = sent
        await asyncio.sleep(2)
    raise TimeoutError("the platform did not become quiet")
