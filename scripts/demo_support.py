"""What the demo scenarios (scripts/demo.py and scripts/demo_*.py) share: the services' addresses,
HTTP calls printed with their status, failing with a message, synthetic people with valid ID
numbers and mobiles, registering people and employers, and waiting for a person's SMS.

Not a scenario itself: `make demo` runs scripts/demo.py and every other scripts/demo_*.py.
Every call carries an access token of the local Keycloak (client credentials of the realm's
clients, or an insured person signed in to the public app).
Environment: CHS_ENROLLMENT_URL, CHS_NOTIFICATION_URL, CHS_REMOTE_CARE_URL, CHS_CHRONIC_URL,
CHS_TRANSFER_URL, CHS_ADMIN_TOKEN, CHS_TOKEN_ISSUER, CHS_KEYCLOAK_ADMIN(_PASSWORD),
CHS_DEMO_TIMEOUT (30 s).
"""

import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NoReturn, TypeVar
from zoneinfo import ZoneInfo

import httpx
from faker import Faker
from stdnum.cn import ric

from chs_events.masking import mask_id_number, mask_mobile, mask_name, redact


def service_url(name: str, port: int) -> str:
    """CHS_<NAME>_URL, or the service on its local default port."""
    return os.environ.get(f"CHS_{name}_URL", f"http://127.0.0.1:{port}").rstrip("/")


ENROLLMENT = service_url("ENROLLMENT", 8101)
NOTIFICATION = service_url("NOTIFICATION", 8102)
REMOTE_CARE = service_url("REMOTE_CARE", 8103)
CHRONIC = service_url("CHRONIC", 8104)
TRANSFER = service_url("TRANSFER", 8105)
ADMIN_TOKEN = os.environ.get("CHS_ADMIN_TOKEN", "local-admin-token")
TIMEOUT = float(os.environ.get("CHS_DEMO_TIMEOUT", "30"))
CHINA = ZoneInfo("Asia/Shanghai")
SENT = {"sent", "delivered"}  # an SMS that went out, with or without a delivery receipt

fake = Faker("zh_CN")
run = uuid.uuid4().hex[:8]  # in every X-Request-Id and payment id of this run

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    print(f"\nDEMO FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def until(what: str, found: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
    """Polls ``found`` until it returns something; ends the demo when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := found()) is not None:
            return result
        time.sleep(0.3)
    fail(f"{what} not within {timeout:.0f} s")


# --- Kafka: how far behind a consumer group is ------------------------------------------------

KAFKA = os.environ.get("CHS_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
TOPIC_PREFIX = os.environ.get("CHS_TOPIC_PREFIX", "")


def group_lag(group: str, topics: Iterable[str], bootstrap: str = KAFKA) -> int:
    """Records of ``topics`` that the consumer group ``group`` has not committed: per partition
    its end offset minus the group's committed offset (a partition never committed counts from
    its beginning offset, where the group starts)."""
    return asyncio.run(_group_lag(group, list(topics), bootstrap))


async def _group_lag(group: str, topics: list[str], bootstrap: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await reader.start()
    try:
        partitions = [
            TopicPartition(described["topic"], p["partition"])
            for described in await admin.describe_topics(topics)
            if described["error_code"] == 0  # a topic not created yet holds nothing
            for p in described["partitions"]
        ]
        committed = await admin.list_consumer_group_offsets(group)
        ends = await reader.end_offsets(partitions)
        beginnings = await reader.beginning_offsets(partitions)
        lag = 0
        for tp in partitions:
            done = committed[tp].offset if tp in committed else -1
            lag += max(0, ends[tp] - (done if done >= 0 else beginnings[tp]))
        return lag
    finally:
        await reader.stop()
        await admin.close()


def until_caught_up(
    what: str,
    found: Callable[[], T | None],
    group: str,
    topics: Iterable[str],
    timeout: float = TIMEOUT,
) -> T:
    """Polls ``found`` like ``until``, but waits as long as the consumer group ``group`` is
    catching up on ``topics`` (a long-lived broker's kept topics hold history it reads from
    offset 0), telling how far behind it is; ends the demo only when ``timeout`` passes with
    the group caught up, or with its lag not falling."""
    topics = list(topics)
    deadline, told, last = time.monotonic() + timeout, 0.0, None
    while True:
        if (result := found()) is not None:
            return result
        lag = group_lag(group, topics)
        now = time.monotonic()
        if lag > 0 and (last is None or lag < last):
            deadline = now + timeout  # moving: wait on
            if now - told >= 5:
                print(f"     ({group} is {lag:,} events behind; waiting until it catches up)")
                told = now
        last = lag
        if now >= deadline:
            state = "caught up" if lag == 0 else f"{lag:,} events behind and not catching up"
            fail(f"{what} not within {timeout:.0f} s ({group} {state})")
        time.sleep(0.5)


# --- HTTP -----------------------------------------------------------------------------------


# --- Callers: access tokens of the local identity provider (deploy/keycloak/chs-realm.json) ------

ISSUER = os.environ.get("CHS_TOKEN_ISSUER", "http://127.0.0.1:18080/realms/chs").rstrip("/")
KEYCLOAK = ISSUER.rsplit("/realms/", 1)[0]
KEYCLOAK_ADMIN = os.environ.get("CHS_KEYCLOAK_ADMIN", "admin")
KEYCLOAK_ADMIN_PASSWORD = os.environ.get("CHS_KEYCLOAK_ADMIN_PASSWORD", "admin")
# The realm's clients the scenarios call as (their development secrets are dev-secret-<id>).
AGENCY = "agency-shandong"  # agency staff serving the whole province, every business scope
JIANGSU_AGENCY = "agency-jiangsu"
QINGDAO_HOSPITAL = "his-qingdao-university-hospital"
WOMEN_CHILDREN_HOSPITAL = "his-qingdao-women-children-hospital"
SHOUGUANG_HOSPITAL = "his-shouguang-peoples-hospital"
PHARMACY = "pharmacy-qingdao-demo"
TAX_COLLECTION = "tax-collection"
ADMIN = "admin-console"
PUBLIC_APP = "public-app"


class Bearer(httpx.Auth):
    """A token of the identity provider, fetched when first needed and again before it expires:
    a realm client's (client credentials) or an insured person's (signed in to the public app)."""

    def __init__(self, grant: dict[str, str]) -> None:
        self._grant = grant
        self._token, self._expires = "", 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if time.monotonic() > self._expires - 30:
            answer = httpx.post(
                f"{ISSUER}/protocol/openid-connect/token", data=self._grant, trust_env=False
            )
            if answer.status_code != 200:
                fail(f"no token from {ISSUER} ({answer.status_code}); is Keycloak up? make up")
            self._token = answer.json()["access_token"]
            self._expires = time.monotonic() + answer.json()["expires_in"]
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


_CALLERS: dict[str, Bearer] = {}


def as_(client_id: str) -> Bearer:
    """Calls made as the realm's client ``client_id``."""
    if client_id not in _CALLERS:
        _CALLERS[client_id] = Bearer(
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": f"dev-secret-{client_id}",
            }
        )
    return _CALLERS[client_id]


def as_person(person_id: str) -> Bearer:
    """Calls made by the insured person through the public app: the person gets a user of the
    realm (its attribute person_id goes into the token) and signs in."""
    if person_id not in _CALLERS:
        password = uuid.uuid4().hex
        admin = httpx.post(
            f"{KEYCLOAK}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": KEYCLOAK_ADMIN,
                "password": KEYCLOAK_ADMIN_PASSWORD,
            },
            trust_env=False,
        ).json()["access_token"]
        created = httpx.post(
            f"{KEYCLOAK}/admin/realms/chs/users",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "username": person_id,
                "enabled": True,
                "email": f"{person_id}@persons.chs.invalid",
                "emailVerified": True,
                "firstName": "demo",
                "lastName": "person",
                "attributes": {"person_id": [person_id]},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            },
            trust_env=False,
        )
        if created.status_code != 201:
            fail(f"the public app's user for {person_id}: {created.status_code} {created.text}")
        _CALLERS[person_id] = Bearer(
            {
                "grant_type": "password",
                "client_id": PUBLIC_APP,
                "client_secret": f"dev-secret-{PUBLIC_APP}",
                "username": person_id,
                "password": password,
            }
        )
    return _CALLERS[person_id]


def local_client() -> httpx.Client:
    """Local services, never through a proxy; calls are the province agency's unless a call says
    ``auth=as_(...)`` or ``auth=as_person(...)``."""
    return httpx.Client(timeout=10, trust_env=False, auth=as_(AGENCY))


def _request(client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    try:
        return client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        fail(f"{method} {url}: {error!r} (is the platform up? make up)")


def _answer(response: httpx.Response, expect: int, timing: str = "") -> dict:
    """Prints the request with its status and X-Request-Id; anything but `expect` ends the demo."""
    request, path = response.request, response.request.url.path
    print(
        f"  {request.method} {path} → {response.status_code} "
        f"({timing}X-Request-Id {request.headers['X-Request-Id']})"
    )
    if response.status_code != expect:
        fail(
            f"{request.method} {path} answered {response.status_code}, expected {expect}: "
            f"{redact(response.text)}"
        )
    return response.json()


def call(client: httpx.Client, step: str, method: str, url: str, expect: int, **kwargs) -> dict:
    """One request, printed with its status and time; anything but `expect` ends the demo."""
    headers = {"X-Request-Id": f"demo-{run}-{step}", **kwargs.pop("headers", {})}
    started = time.perf_counter()
    response = _request(client, method, url, headers=headers, **kwargs)
    return _answer(response, expect, f"{(time.perf_counter() - started) * 1000:.0f} ms, ")


def call_when_caught_up(
    client: httpx.Client,
    step: str,
    method: str,
    url: str,
    expect: int,
    behind: Callable[[httpx.Response], bool],
    **kwargs,
) -> dict:
    """Like `call`, for a service that learns what the request needs from another's events:
    repeats the request while ``behind`` says the answer only means it has not caught up yet."""
    headers = {"X-Request-Id": f"demo-{run}-{step}", **kwargs.pop("headers", {})}
    deadline = time.monotonic() + TIMEOUT
    while (
        behind(response := _request(client, method, url, headers=headers, **kwargs))
        and time.monotonic() < deadline
    ):
        time.sleep(0.3)
    return _answer(response, expect)


def refused(client: httpx.Client, method: str, url: str, expect: int, **kwargs) -> dict:
    """A request the scenario expects to be refused with ``expect``: the problem it answers."""
    response = _request(client, method, url, **kwargs)
    if response.status_code != expect:
        fail(f"expected {expect}, got {response.status_code}: {response.text}")
    return response.json()


# --- Synthetic people -----------------------------------------------------------------------


def id_number(district: str, birth: date, female: bool) -> str:
    """A valid 18-character 公民身份号码 from ``district``; the 17th digit is even for a woman."""
    sequence = random.randrange(0, 1000, 2) if female else random.randrange(1, 1000, 2)
    body = f"{district}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the 18th character


def mobile(prefix: str = "1385321") -> str:
    return f"{prefix}{random.randint(0, 9999):04d}"


@dataclass(frozen=True)
class Person:
    """Someone new to the registry: every run makes new ones, so the demos can run again."""

    id_number: str
    name: str
    mobile: str
    region_code: str
    birth: date

    @property
    def registration(self) -> dict:
        """The fields enrollment registers a person (or an employee) with."""
        return {
            "id_number": self.id_number,
            "name": self.name,
            "mobile": self.mobile,
            "region_code": self.region_code,
        }

    def described(self) -> str:
        return (
            f"{mask_name(self.name)}, born {self.birth}, ID {mask_id_number(self.id_number)}, "
            f"mobile {mask_mobile(self.mobile)}"
        )


def new_person(district: str, birth: date, female: bool, mobile_prefix: str = "1385321") -> Person:
    return Person(
        id_number=id_number(district, birth, female),
        name=fake.name_female() if female else fake.name_male(),
        mobile=mobile(mobile_prefix),
        region_code=district,
        birth=birth,
    )


def month(day: date, back: int = 0) -> date:
    """The first day of ``day``'s month, or of the month ``back`` months before."""
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


# --- Enrollment -----------------------------------------------------------------------------


def register(client: httpx.Client, step: str, person: Person) -> dict:
    return call(client, step, "POST", f"{ENROLLMENT}/persons", 201, json=person.registration)


def enroll(
    client: httpx.Client, step: str, person_id: str, insutype: str, pooling_region: str, start: date
) -> dict:
    return call(
        client,
        step,
        "POST",
        f"{ENROLLMENT}/persons/{person_id}/enrollments",
        201,
        json={
            "insutype": insutype,
            "pooling_region": pooling_region,
            "start_date": start.isoformat(),
        },
    )


def register_employer(client: httpx.Client, city: str, region_code: str) -> dict:
    """A new employer of ``city`` (政企直联); the answer carries its API key, shown once."""
    return call(
        client,
        "employer",
        "POST",
        f"{ENROLLMENT}/employers",
        201,
        headers={"X-Admin-Token": ADMIN_TOKEN},
        json={"name": f"{city}{fake.company()}", "region_code": region_code},
    )


def add_staff(
    client: httpx.Client,
    employer: dict,
    people: Iterable[Person],
    contribution_base_fen: int,
    start: date,
) -> list[dict]:
    """增员: the employer's HR system adds its new employees to employee insurance (310)."""
    items = [
        {
            **person.registration,
            "contribution_base_fen": contribution_base_fen,
            "start_date": start.isoformat(),
        }
        for person in people
    ]
    added = call(
        client,
        "staff-add",
        "POST",
        f"{ENROLLMENT}/employers/{employer['employer_id']}/staff/batch-add",
        200,
        headers={"X-API-Key": employer["api_key"]},
        json={"items": items},
    )
    return added["items"]


def pay_contribution(
    client: httpx.Client,
    enrollment_id: str,
    period: str,
    employer_part_fen: int,
    personal_part_fen: int,
) -> dict:
    return call(
        client,
        f"contribution-{period}",
        "POST",
        f"{ENROLLMENT}/contributions",
        201,
        auth=as_(TAX_COLLECTION),
        json={
            "payment_id": f"PAY-{run}-{period}",
            "enrollment_id": enrollment_id,
            "period": period,
            "amount_fen": employer_part_fen + personal_part_fen,
            "employer_part_fen": employer_part_fen,
            "personal_part_fen": personal_part_fen,
        },
    )


# --- SMS ------------------------------------------------------------------------------------


def messages_of(client: httpx.Client, person_id: str) -> list[dict]:
    """The person's SMS as notification recorded them, oldest first."""
    url = f"{NOTIFICATION}/persons/{person_id}/messages"
    try:
        response = client.get(
            url, headers={"X-Request-Id": f"demo-{run}-messages"}, auth=as_(ADMIN)
        )
    except httpx.HTTPError as error:
        fail(f"GET {url}: {error!r} (is the notification service up?)")
    if response.status_code != 200:
        fail(f"GET {url} answered {response.status_code}: {response.text}")
    return sorted(response.json()["messages"], key=lambda m: m["created_at"])


def next_sms(
    client: httpx.Client, person_id: str, template_id: str, seen: set[str] | None = None
) -> dict:
    """Waits for an SMS of ``template_id`` to the person that went out and is not in ``seen``
    (then added to it); ends the demo when none does within the time-box."""
    seen = set() if seen is None else seen

    def went_out() -> dict | None:
        m = next(
            (
                m
                for m in messages_of(client, person_id)
                if m["template_id"] == template_id
                and m["status"] in SENT
                and m["message_id"] not in seen
            ),
            None,
        )
        if m is not None:
            seen.add(m["message_id"])
        return m

    return until(f"an SMS {template_id} to person {person_id}", went_out)


def sms_caused(client: httpx.Client, person_id: str, template_id: str, seen: set[str]) -> None:
    """Waits for the next SMS of ``template_id`` to the person and prints it."""
    m = next_sms(client, person_id, template_id, seen)
    print(
        f"     SMS from {m['sender']} ({m['template_id']}, {m['status']}):\n"
        f"       {redact(m['text'])}"
    )
