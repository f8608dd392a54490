"""The transfer API in-process against a real PostgreSQL server (a fresh database for this
module), its read model fed by its consumer from a real Kafka broker, and the amounts the ledger
moved by its consumer of the account topic (published here as the accounts service would)."""

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.account import AccountTransferredOut, AccountTransferredWithin
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PoolingRegionChanged,
)
from chs_events.topics import ACCOUNT_EVENTS, BY_NAME, ENROLLMENT_EVENTS, dead_letter_spec
from chs_transfer.api import create_app
from chs_transfer.consumers import (
    ENROLLMENTS_CONSUMER,
    ENROLLMENTS_HANDLERS,
    ENROLLMENTS_TOPICS,
    LEDGER_CONSUMER,
    LEDGER_HANDLERS,
    LEDGER_TOPICS,
)
from chs_transfer.settings import TransferSettings
from tests.support import broker
from tests.support.broker import until
from tests.support.service import client_of, running, throwaway_database
from tests.support.service import outbox_of as outbox_rows
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration


def payload(envelope: Envelope) -> Any:
    """The envelope's event, its fields read by name (``outbox_of`` validated its type)."""
    return envelope.event


QINGDAO, JINAN, SUZHOU, SHINAN = "370200", "370100", "320500", "370202"
PROBLEM = "application/problem+json"
T = "chs.transfer."


@pytest.fixture(scope="module")
async def settings(database_url: str, kafka_bootstrap: str) -> AsyncIterator[TransferSettings]:
    prefix = f"t{secrets.token_hex(4)}."
    specs = [BY_NAME[ENROLLMENT_EVENTS], BY_NAME[ACCOUNT_EVENTS]]
    await ensure_topics(
        kafka_bootstrap, prefix, [*specs, *(dead_letter_spec(spec) for spec in specs)]
    )
    async with throwaway_database(database_url, "transfer") as name:
        yield TransferSettings(
            database_url=database_url,
            database_name=name,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
        )


@pytest.fixture(scope="module")
async def app(settings: TransferSettings) -> AsyncIterator[object]:
    async with running(create_app(settings)) as app:
        stop = asyncio.Event()
        runners = [
            ConsumerRunner(
                name=name, topics=topics, handlers=handlers, pool=app.state.pool, settings=settings
            )
            for name, topics, handlers in (
                (ENROLLMENTS_CONSUMER, ENROLLMENTS_TOPICS, ENROLLMENTS_HANDLERS),
                (LEDGER_CONSUMER, LEDGER_TOPICS, LEDGER_HANDLERS),
            )
        ]
        tasks = [asyncio.create_task(runner.run(stop)) for runner in runners]
        yield app
        stop.set()
        await asyncio.gather(*tasks)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, "transfer") as client:
        yield client


def as_person(person_id: str) -> dict[str, str]:
    """The person themself, through the public service apps."""
    return bearer("transfer", kind="person", person_id=person_id)


def as_agency(region: str) -> dict[str, str]:
    """Agency staff of ``region`` with every business scope (transfer:confirm among them)."""
    return bearer("transfer", kind="agency", region=region)


def out_region() -> dict[str, str]:
    """The out region of these tests' transfers (Qingdao)."""
    return as_agency(QINGDAO)


def in_region() -> dict[str, str]:
    """The in region of these tests' cross-province transfers (Suzhou)."""
    return as_agency(SUZHOU)


def new_person() -> str:
    return "p" + uuid.uuid4().hex


async def publish(settings: TransferSettings, *events) -> None:
    await broker.publish_each(
        settings,
        [
            (settings.topic(event.topic), Envelope(event, source=f"/chs/{event.producer}"))
            for event in events
        ],
    )


def enrolled(
    person_id: str, insutype: str = "310", region: str = QINGDAO, enrollment_id: str | None = None
) -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=enrollment_id or f"en-{person_id[-8:]}-{insutype}",
        insutype=insutype,
        pooling_region=region,
        start_date=date(2025, 1, 1),
        employer_id="E0000000001" if insutype == "310" else None,
        contribution_base_fen=650000 if insutype == "310" else None,
    )


def paid(person_id: str, enrollment_id: str, period: str) -> ContributionPaid:
    return ContributionPaid(
        person_id=person_id,
        payment_id=f"pay-{enrollment_id}-{period}",
        enrollment_id=enrollment_id,
        insutype="310",
        period=period,
        amount_fen=71500,
        employer_part_fen=58500,
        personal_part_fen=13000,
        paid_at=datetime(2026, 10, 15, tzinfo=UTC),
    )


async def request_when_known(
    client: httpx.AsyncClient, person_id: str, to_region: str, **headers: str
) -> httpx.Response:
    """The read model follows the broker: retry a 422 'no active enrollment' for a while."""

    async def accepted():
        response = await client.post(
            "/transfers",
            json={"person_id": person_id, "to_region": to_region},
            headers={**as_person(person_id), **headers},
        )
        if response.status_code == 422 and "no active employee" in response.json()["detail"]:
            return None
        return response

    return await until(accepted, timeout=30, interval=0.2)


async def employee(settings, client, region: str = QINGDAO, months: int = 0) -> tuple[str, str]:
    person_id = new_person()
    registration = enrolled(person_id, region=region)
    await publish(
        settings,
        registration,
        *(
            paid(person_id, registration.enrollment_id, f"2026{m:02d}")
            for m in range(1, months + 1)
        ),
    )
    return person_id, registration.enrollment_id


async def outbox_of(app, person_id: str) -> list[Envelope]:
    async with app.state.pool.acquire() as conn:
        return await outbox_rows(conn, person_id)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    if field:
        assert field in [e["field"] for e in problem.get("errors") or []], problem
    return problem


async def test_within_the_province_completes_at_once(app, client, settings):
    person_id, enrollment_id = await employee(settings, client, months=3)
    await until(lambda: _months_known(app, enrollment_id, 3), timeout=30)
    response = await request_when_known(client, person_id, JINAN, **{"X-Request-Id": "req-jn"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/transfers/{body['transfer_id']}"
    assert body["status"] == "completed" and body["cross_province"] is False
    assert (body["from_region"], body["to_region"], body["enrollment_id"]) == (
        QINGDAO,
        JINAN,
        enrollment_id,
    )
    # months from the contributions; the balance is the ledger's to report, not counted here
    assert body["contribution_months"] == 3 and body["account_balance_fen"] is None
    events = await outbox_of(app, person_id)
    assert [e.type for e in events] == [T + "requested.v1", T + "completed.v2"]
    assert all(e.correlation_id == "req-jn" for e in events)
    assert payload(events[1]).to_region == JINAN
    assert payload(events[1]).confirmed_balance_fen is None
    assert (
        await client.get(f"/transfers/{body['transfer_id']}", headers=as_person(person_id))
    ).json() == body

    # The read model already pools the enrollment in Jinan: Jinan is now its own region.
    assert_problem(
        await client.post(
            "/transfers",
            json={"person_id": person_id, "to_region": JINAN},
            headers=as_person(person_id),
        ),
        422,
        "to_region",
    )
    listed = (
        await client.get(f"/persons/{person_id}/transfers", headers=as_person(person_id))
    ).json()
    assert [t["transfer_id"] for t in listed["transfers"]] == [body["transfer_id"]]


async def _months_known(app, enrollment_id: str, count: int) -> bool:
    async with app.state.pool.acquire() as conn:
        return (
            await conn.fetchval(
                "select count(*) from contributions where enrollment_id = $1", enrollment_id
            )
            == count
        )


async def test_across_provinces_walks_its_states(app, client, settings):
    person_id, enrollment_id = await employee(settings, client, months=2)
    await until(lambda: _months_known(app, enrollment_id, 2), timeout=30)
    response = await request_when_known(client, person_id, SUZHOU)
    assert response.status_code == 201, response.text
    transfer = response.json()
    assert (transfer["status"], transfer["cross_province"]) == ("requested", True)
    assert transfer["contribution_months"] is None
    url = f"/transfers/{transfer['transfer_id']}"

    # a second open transfer is refused; completion waits for the out-region
    problem = assert_problem(
        await client.post(
            "/transfers",
            json={"person_id": person_id, "to_region": JINAN},
            headers=as_person(person_id),
        ),
        409,
    )
    assert problem["transfer_id"] == transfer["transfer_id"]
    assert_problem(await client.post(f"{url}/completion", json={}, headers=in_region()), 409)
    assert_problem(
        await client.post(
            f"{url}/rejection",
            json={"by": "in_region", "reason_code": "documents_incomplete"},
            headers=in_region(),
        ),
        409,
    )

    confirmed = await client.post(f"{url}/out-confirmation", json={}, headers=out_region())
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "out_confirmed"
    assert confirmed.json()["contribution_months"] == 2
    assert confirmed.json()["account_balance_fen"] is None  # the ledger's, at completion
    assert_problem(await client.post(f"{url}/out-confirmation", json={}, headers=out_region()), 409)

    completed = await client.post(f"{url}/completion", json={}, headers=in_region())
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    assert completed.json()["completed_on"] is not None

    events = await outbox_of(app, person_id)
    assert [e.type for e in events] == [
        T + "requested.v1",
        T + "out-confirmed.v2",
        T + "completed.v2",
    ]
    assert payload(events[0]).cross_province is True
    assert payload(events[1]).contribution_months == 2
    assert payload(events[2]).contribution_months == 2
    assert payload(events[2]).confirmed_balance_fen is None  # out of the province
    # closed: a new transfer may be requested (from Suzhou now)
    again = await client.post(
        "/transfers",
        json={"person_id": person_id, "to_region": QINGDAO},
        headers=as_person(person_id),
    )
    assert again.status_code == 201 and again.json()["from_region"] == SUZHOU


async def test_the_out_region_states_no_balance_and_the_in_region_may_reject(app, client, settings):
    person_id, _ = await employee(settings, client, months=1)
    transfer = (await request_when_known(client, person_id, SUZHOU)).json()
    url = f"/transfers/{transfer['transfer_id']}"
    for stated in (-1, 0, 8800, 10**12):
        problem = assert_problem(
            await client.post(
                f"{url}/out-confirmation",
                json={"account_balance_fen": stated},
                headers=out_region(),
            ),
            403,
        )
        assert problem["reason"] == "balance_not_yours_to_state"
        assert "the ledger moves the balance it holds" in problem["detail"]
    confirmed = await client.post(f"{url}/out-confirmation", json={}, headers=out_region())
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["account_balance_fen"] is None
    rejected = await client.post(
        f"{url}/rejection",
        json={"by": "in_region", "reason_code": "no_employer_in_region"},
        headers=in_region(),
    )
    assert rejected.status_code == 200, rejected.text
    assert (
        rejected.json()["status"],
        rejected.json()["rejected_by"],
        rejected.json()["reason_code"],
        rejected.json()["reason"],
    ) == ("rejected", "in_region", "no_employer_in_region", "转入地无在职参保单位")
    events = await outbox_of(app, person_id)
    assert [e.type for e in events] == [
        T + "requested.v1",
        T + "out-confirmed.v2",
        T + "rejected.v2",
    ]
    assert payload(events[-1]).reason_code == "no_employer_in_region"
    assert_problem(await client.post(f"{url}/completion", json={}, headers=in_region()), 409)


async def test_the_out_region_rejects_a_request(app, client, settings):
    person_id, _ = await employee(settings, client)
    transfer = (await request_when_known(client, person_id, SUZHOU)).json()
    url = f"/transfers/{transfer['transfer_id']}"
    assert_problem(
        await client.post(
            f"{url}/rejection", json={"by": "out_region", "reason": " "}, headers=out_region()
        ),
        422,
    )
    for free_text in (
        {"by": "out_region", "reason": "存在欠缴月份，需补缴后再办理"},
        {"by": "out_region", "reason_code": "存在欠缴月份，需补缴后再办理"},
        {"by": "out_region", "reason_code": "arrears_unpaid", "reason": "请致电 400-000-0000"},
    ):
        assert_problem(
            await client.post(f"{url}/rejection", json=free_text, headers=out_region()), 422
        )
    rejected = await client.post(
        f"{url}/rejection",
        json={"by": "out_region", "reason_code": "arrears_unpaid"},
        headers=out_region(),
    )
    assert rejected.json()["status"] == "rejected"
    assert [e.type for e in await outbox_of(app, person_id)] == [
        T + "requested.v1",
        T + "rejected.v2",
    ]


async def test_only_active_employees_and_never_to_the_own_region(app, client, settings):
    resident, ended = new_person(), new_person()
    ended_enrollment = enrolled(ended)
    await publish(
        settings,
        enrolled(resident, "390"),
        ended_enrollment,
        EnrollmentTerminated(
            person_id=ended,
            enrollment_id=ended_enrollment.enrollment_id,
            insutype="310",
            end_date=date(2025, 6, 30),
            reason="left_employer",
        ),
    )
    person_id, _ = await employee(settings, client)
    first = await request_when_known(client, person_id, SUZHOU)  # the stream got this far
    assert first.status_code == 201

    for someone in (resident, ended, new_person()):
        problem = assert_problem(
            await client.post(
                "/transfers",
                json={"person_id": someone, "to_region": JINAN},
                headers=as_person(someone),
            ),
            422,
        )
        assert "no active employee (310) enrollment" in problem["detail"]
    other, _ = await employee(settings, client)
    assert_problem(await request_when_known(client, other, SHINAN), 422, "to_region")
    assert_problem(
        await client.post(
            "/transfers", json={"person_id": other, "to_region": "999999"}, headers=as_person(other)
        ),
        422,
    )
    assert_problem(await client.get(f"/transfers/{uuid.uuid4()}", headers=as_person(other)), 404)
    assert_problem(
        await client.post(f"/transfers/{uuid.uuid4()}/completion", json={}, headers=in_region()),
        404,
    )


async def test_concurrent_requests_open_one_transfer(app, client, settings):
    person_id, enrollment_id = await employee(settings, client)

    async def known():
        async with app.state.pool.acquire() as conn:
            return (
                await conn.fetchval(
                    "select count(*) from enrollment_view where enrollment_id = $1", enrollment_id
                )
                == 1
            )

    await until(known, timeout=30)
    responses = await asyncio.gather(
        *(
            client.post(
                "/transfers",
                json={"person_id": person_id, "to_region": region},
                headers=as_person(person_id),
            )
            for region in (SUZHOU, "330100", "310000")
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409], [r.text for r in responses]
    assert (
        len(
            (
                await client.get(f"/persons/{person_id}/transfers", headers=as_person(person_id))
            ).json()["transfers"]
        )
        == 1
    )


async def test_pooling_region_changed_moves_the_read_model(app, client, settings):
    person_id, enrollment_id = await employee(settings, client)
    await request_when_known(client, person_id, SUZHOU)  # read model has the enrollment
    moved = PoolingRegionChanged(
        person_id=person_id,
        enrollment_id=enrollment_id,
        insutype="310",
        from_region=QINGDAO,
        to_region=JINAN,
        changed_on=date(2026, 11, 22),
        transfer_id="elsewhere",
    )
    await publish(settings, moved, moved)

    async def in_jinan():
        async with app.state.pool.acquire() as conn:
            return (
                await conn.fetchval(
                    "select pooling_region from enrollment_view where enrollment_id = $1",
                    enrollment_id,
                )
                == JINAN
            )

    await until(in_jinan, timeout=30)


async def test_into_the_province_only_the_receiving_regions_staff_state_the_confirmed_balance(
    app, client, settings
):
    """Suzhou → Qingdao: the balance coming in is the one the out-province confirmed through
    the national transfer platform, entered by Qingdao's agency staff with the platform's
    reference; any other caller stating an amount is 403, an amount over the policy bound or
    without its reference 422; out of the province the completion states none."""
    person_id, _ = await employee(settings, client, region=SUZHOU, months=1)
    transfer = (await request_when_known(client, person_id, QINGDAO)).json()
    assert transfer["cross_province"] is True
    url = f"/transfers/{transfer['transfer_id']}"
    suzhou, qingdao = in_region(), out_region()  # here Suzhou is the out-region
    minted = {"account_balance_fen": 10**12, "platform_reference": "ZY2026112200001"}

    # the out-province's agency stating an amount: 403, whatever the amount
    for body in ({"account_balance_fen": 10**12}, {"account_balance_fen": 9100}):
        assert_problem(await client.post(f"{url}/out-confirmation", json=body, headers=suzhou), 403)
    assert (
        await client.post(f"{url}/out-confirmation", json={}, headers=suzhou)
    ).status_code == 200
    # not the receiving region: 403 (the policy); an amount over the bound is 422 for anyone
    stated = {"account_balance_fen": 9100, "platform_reference": "ZY2026112200001"}
    assert_problem(await client.post(f"{url}/completion", json=stated, headers=suzhou), 403)
    assert_problem(await client.post(f"{url}/completion", json=minted, headers=suzhou), 422)
    # the receiving region: over the bound, without the reference, without the amount: 422
    assert_problem(
        await client.post(f"{url}/completion", json=minted, headers=qingdao),
        422,
        "account_balance_fen",
    )
    assert_problem(
        await client.post(f"{url}/completion", json={"account_balance_fen": 9100}, headers=qingdao),
        422,
        "platform_reference",
    )
    assert_problem(
        await client.post(f"{url}/completion", json={}, headers=qingdao), 422, "account_balance_fen"
    )
    assert [e.type for e in await outbox_of(app, person_id)] == [
        T + "requested.v1",
        T + "out-confirmed.v2",
    ]

    done = await client.post(
        f"{url}/completion",
        json={"account_balance_fen": 10**9, "platform_reference": "ZY2026112200001"},
        headers=qingdao,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["confirmed_balance_fen"], body["platform_reference"]) == (
        "completed",
        10**9,
        "ZY2026112200001",
    )
    assert body["confirmed_by"] == "test-agency"  # the staff's token subject
    assert body["account_balance_fen"] is None  # until the ledger reports the movement
    completed = payload((await outbox_of(app, person_id))[-1])
    assert (
        completed.confirmed_balance_fen,
        completed.platform_reference,
        completed.confirmed_by,
    ) == (10**9, "ZY2026112200001", "test-agency")

    # out of the province, the in-region's staff state nothing: the ledger moves its balance
    leaving, _ = await employee(settings, client, months=1)
    transfer = (await request_when_known(client, leaving, SUZHOU)).json()
    url = f"/transfers/{transfer['transfer_id']}"
    assert (
        await client.post(f"{url}/out-confirmation", json={}, headers=qingdao)
    ).status_code == 200
    problem = assert_problem(
        await client.post(
            f"{url}/completion",
            json={"account_balance_fen": 9100, "platform_reference": "ZY2026112200002"},
            headers=suzhou,
        ),
        403,
    )
    assert problem["reason"] == "balance_not_yours_to_state"


async def test_the_transfer_records_the_amounts_the_ledger_reported(app, client, settings):
    """Within the province the ledger moves what it holds and reports it: the transfer shows
    that amount (a redelivered report counts once); out of the province every movement of the
    transfer adds up (a contribution forwarded after the completion)."""
    person_id, enrollment_id = await employee(settings, client, months=3)
    await until(lambda: _months_known(app, enrollment_id, 3), timeout=30)
    within = (await request_when_known(client, person_id, JINAN)).json()
    assert within["account_balance_fen"] is None
    reported = AccountTransferredWithin(
        person_id=person_id,
        account_id="A-1",
        transaction_id=f"transfer-within:{within['transfer_id']}",
        amount_fen=3750,
        balance_after_fen=3750,
        posted_at=datetime(2026, 11, 22, 9, tzinfo=UTC),
        transfer_id=within["transfer_id"],
        from_region=QINGDAO,
        to_region=JINAN,
    )
    await publish(settings, reported, reported)
    url = f"/transfers/{within['transfer_id']}"

    async def shown(url: str, fen: int):
        body = (await client.get(url, headers=as_person(person_id))).json()
        return body if body["account_balance_fen"] == fen else None

    body = await until(lambda: shown(url, 3750), timeout=30)
    assert body["status"] == "completed" and body["confirmed_balance_fen"] is None

    out = (await request_when_known(client, person_id, SUZHOU)).json()
    url = f"/transfers/{out['transfer_id']}"
    assert (
        await client.post(f"{url}/out-confirmation", json={}, headers=as_agency(JINAN))
    ).status_code == 200
    assert (await client.post(f"{url}/completion", json={}, headers=in_region())).status_code == 200

    def moved_out(transaction_id: str, fen: int) -> AccountTransferredOut:
        return AccountTransferredOut(
            person_id=person_id,
            account_id="A-1",
            transaction_id=transaction_id,
            amount_fen=fen,
            balance_after_fen=0,
            posted_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
            transfer_id=out["transfer_id"],
            to_region=SUZHOU,
        )

    closing = f"transfer-out:{out['transfer_id']}"
    await publish(
        settings,
        moved_out(closing, 3750),
        moved_out(closing, 3750),
        moved_out(f"{closing}:contribution:pay-late", 2600),
    )
    await until(lambda: shown(url, 3750 + 2600), timeout=30)
