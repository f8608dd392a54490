"""The accounts service in-process against a real PostgreSQL server (a fresh database for this
module), its ledger fed by its consumer from a real Kafka broker: concurrent debits, idempotent
postings, credits from contributions, family mutual aid, death and transfers."""

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from chs_accounts.api import create_app
from chs_accounts.consumers import LEDGER_CONSUMER, LEDGER_TOPICS, ledger_handlers
from chs_accounts.settings import AccountsSettings
from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.db import create_pool
from chs_events.envelope import Envelope
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountTransferredIn,
    AccountTransferredOut,
    AccountTransferredWithin,
    AccountWithdrawn,
)
from chs_events.events.base import Event
from chs_events.events.enrollment import (
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    PersonRegistered,
)
from chs_events.events.transfer import TransferCompleted
from chs_events.topics import (
    BY_NAME,
    ENROLLMENT_EVENTS,
    TRANSFER_EVENTS,
    dead_letter_spec,
    dlq_of,
)
from tests.support import broker
from tests.support.broker import read_topic, until
from tests.support.service import outbox_of as outbox_rows
from tests.support.service import service_fixtures
from tests.support.tokens import bearer

pytestmark = pytest.mark.integration

QINGDAO, SUZHOU, JINAN = "370200", "320500", "370100"
WINDOW = "P370200001"  # the pharmacy of debit_body
PROBLEM = "application/problem+json"
A = "chs.account."


PREFIX = f"t{secrets.token_hex(4)}."
settings, app, client, db = service_fixtures(
    "accounts", AccountsSettings, create_app, topic_prefix=PREFIX
)


@pytest.fixture(scope="module", autouse=True)
async def ledger_consumer(app, settings: AccountsSettings) -> AsyncIterator[None]:
    """The ledger's consumer, on this module's own topics, beside the app."""
    specs = [BY_NAME[ENROLLMENT_EVENTS], BY_NAME[TRANSFER_EVENTS]]
    await ensure_topics(
        settings.kafka_bootstrap, PREFIX, [*specs, *(dead_letter_spec(spec) for spec in specs)]
    )
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=LEDGER_CONSUMER,
        topics=LEDGER_TOPICS,
        handlers=ledger_handlers(settings),
        pool=app.state.pool,
        settings=settings,
    )
    task = asyncio.create_task(runner.run(stop))
    yield
    stop.set()
    await task


def as_person(person_id: str) -> dict[str, str]:
    """The holder themself, through the public service apps."""
    return bearer("accounts", kind="person", person_id=person_id)


def as_agency(region: str = QINGDAO) -> dict[str, str]:
    return bearer("accounts", kind="agency", region=region)


def as_window(key: str | None = None, merchant_code: str = WINDOW) -> dict[str, str]:
    """The pharmacy whose code debit_body names, with an Idempotency-Key when given."""
    headers = bearer("accounts", kind="merchant", merchant_code=merchant_code)
    return headers if key is None else {**headers, "Idempotency-Key": key}


def new_person() -> str:
    return "p" + uuid.uuid4().hex


async def publish(settings: AccountsSettings, *items) -> None:
    """Events (a fresh envelope each) or envelopes (sent as they are: a redelivery)."""
    envelopes = [
        item
        if isinstance(item, Envelope)
        else Envelope(
            item, source="/chs/transfer" if item.topic == TRANSFER_EVENTS else "/chs/enrollment"
        )
        for item in items
    ]
    await broker.publish_each(settings, [(settings.topic(e.event.topic), e) for e in envelopes])


def person(person_id: str, born: date = date(1995, 3, 1)) -> PersonRegistered:
    return PersonRegistered(person_id=person_id, sex="F", birth_date=born, region_code=QINGDAO)


def enrolled(person_id: str, insutype: str = "310") -> EnrollmentRegistered:
    return EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=f"en-{person_id[-8:]}-{insutype}",
        insutype=insutype,
        pooling_region=QINGDAO,
        start_date=date(2026, 1, 1),
        employer_id="E0000000001" if insutype == "310" else None,
        contribution_base_fen=650000 if insutype == "310" else None,
    )


def paid(
    person_id: str, period: str, personal: int = 13000, employer: int = 58500, insutype: str = "310"
) -> ContributionPaid:
    enrollment_id = f"en-{person_id[-8:]}-{insutype}"
    return ContributionPaid(
        person_id=person_id,
        payment_id=f"pay-{enrollment_id}-{period}",
        enrollment_id=enrollment_id,
        insutype=insutype,
        period=period,
        amount_fen=personal + employer,
        employer_part_fen=employer,
        personal_part_fen=personal,
        paid_at=datetime(2026, 10, 15, tzinfo=UTC),
    )


class StatedBalanceCompletion(Event):
    """``chs.transfer.completed.v1`` as it was on the wire: a balance stated by whoever called
    the transfer API (an old producer's record, or a forged one)."""

    ce_type = "chs.transfer.completed.v1"
    topic = TRANSFER_EVENTS
    producer = "transfer"

    transfer_id: str
    enrollment_id: str
    from_region: str
    to_region: str
    insutype: str = "310"
    cross_province: bool
    contribution_months: int
    account_balance_fen: int
    completed_on: date


def completion(
    person_id: str,
    from_region: str,
    to_region: str,
    transfer_id: str | None = None,
    *,
    stated_fen: int | None = None,
    confirmed: tuple[int, str, str] | None = None,
) -> Event:
    """A completed transfer of the person's employee enrollment: v2 (into the province with
    the platform's ``confirmed`` balance, reference and staff), or with ``stated_fen`` the v1
    record carrying a caller-stated balance."""
    common = {
        "person_id": person_id,
        "transfer_id": transfer_id or f"tr-{uuid.uuid4().hex[:12]}",
        "enrollment_id": f"en-{person_id[-8:]}-310",
        "from_region": from_region,
        "to_region": to_region,
        "cross_province": from_region[:2] != to_region[:2],
        "contribution_months": 1,
        "completed_on": date(2026, 11, 21),
    }
    if stated_fen is not None:
        return StatedBalanceCompletion(**common, account_balance_fen=stated_fen)
    if confirmed is None:
        return TransferCompleted(**common)
    balance, reference, staff = confirmed
    return TransferCompleted(
        **common, confirmed_balance_fen=balance, platform_reference=reference, confirmed_by=staff
    )


async def dead_lettered(settings: AccountsSettings, envelope: Envelope) -> dict[str, bytes]:
    """The dead-letter headers of ``envelope`` once the ledger's consumer refused it."""
    topic = settings.topic(dlq_of(envelope.topic))

    async def refused():
        for record in await read_topic(settings.kafka_bootstrap, topic, 10**6, timeout=1):
            headers = dict(record.headers)
            if headers.get("ce_id") == envelope.id.encode():
                return headers
        return None

    return await until(refused, timeout=45, interval=0.5)


async def balance_becomes(client: httpx.AsyncClient, person_id: str, fen: int) -> dict:
    async def reached():
        response = await client.get(f"/accounts/{person_id}", headers=as_agency())
        return (
            response.json()
            if response.status_code == 200 and response.json()["balance_fen"] == fen
            else None
        )

    return await until(reached, timeout=30, interval=0.2)


async def holder_with(settings, client, fen: int, born: date = date(1995, 3, 1)) -> str:
    """An employee whose account holds ``fen`` (one contribution's personal part; under 35 the
    shipped rule adds nothing of the employer part)."""
    person_id = new_person()
    await publish(
        settings,
        person(person_id, born),
        enrolled(person_id),
        paid(person_id, "202610", personal=fen),
    )
    await balance_becomes(client, person_id, fen)
    return person_id


async def outbox_of(app, person_id: str) -> list[Envelope]:
    async with app.state.pool.acquire() as conn:
        return await outbox_rows(conn, person_id)


async def ledger(app, account_id: str) -> tuple[int, int, int]:
    """(the balance column, the sum of the account's postings, the sum of every posting)."""
    async with app.state.pool.acquire() as conn:
        return (
            await conn.fetchval(
                "select balance_fen from accounts where account_id = $1", account_id
            ),
            await conn.fetchval(
                "select sum(amount_fen)::bigint from postings where ledger_account = $1",
                f"personal:{account_id}",
            ),
            await conn.fetchval("select coalesce(sum(amount_fen), 0)::bigint from postings"),
        )


def debit_body(spender: str, fen: int = 100, **extra) -> dict:
    return {
        "merchant_code": "P370200001",
        "merchant_kind": "pharmacy",
        "amount_fen": fen,
        "spender_person_id": spender,
        **extra,
    }


def assert_problem(response: httpx.Response, status: int, reason: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    if reason:
        assert problem["reason"] == reason, problem
    return problem


async def test_200_concurrent_debits_of_1_yuan_against_100_yuan(app, client, settings):
    holder = await holder_with(settings, client, 10000)
    account_id = (await client.get(f"/accounts/{holder}", headers=as_person(holder))).json()[
        "account_id"
    ]
    small_pool, big_pool = app.state.pool, await create_pool(settings.database_dsn, max_size=60)
    app.state.pool = big_pool  # 60 transactions at once on the account's row
    try:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/accounts/{holder}/debits",
                    json=debit_body(holder),
                    headers=as_window(f"POS-{holder[-8:]}-{n:04d}"),
                )
                for n in range(200)
            )
        )
    finally:
        app.state.pool = small_pool
        await big_pool.close()

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 100 and statuses.count(409) == 100, statuses
    for refused in (r for r in responses if r.status_code == 409):
        problem = assert_problem(refused, 409, "insufficient_balance")
        assert problem["balance_fen"] == 0 and "insufficient balance" in problem["detail"]
    assert sorted(r.json()["balance_after_fen"] for r in responses if r.status_code == 201) == list(
        range(0, 10000, 100)
    )
    balance, postings, everything = await ledger(app, account_id)
    assert (balance, postings, everything) == (0, 0, 0)
    debited = [e.event for e in await outbox_of(app, holder) if e.type == A + "debited.v1"]
    assert len(debited) == 100
    assert all(isinstance(e, AccountDebited) for e in debited)
    assert sorted(e.balance_after_fen for e in debited if isinstance(e, AccountDebited)) == list(
        range(0, 10000, 100)
    )


async def test_the_same_idempotency_key_posts_once(app, client, settings):
    holder = await holder_with(settings, client, 5000)
    key = as_window(f"POS-{holder[-8:]}-same")
    first = await client.post(
        f"/accounts/{holder}/debits", json=debit_body(holder, 1200), headers=key
    )
    again = await client.post(
        f"/accounts/{holder}/debits", json=debit_body(holder, 1200), headers=key
    )
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json() and first.json()["balance_after_fen"] == 3800
    # at the same time, and with the key in the body
    body = debit_body(holder, 300, transaction_id=f"POS-{holder[-8:]}-body")
    both = await asyncio.gather(
        *(
            client.post(f"/accounts/{holder}/debits", json=body, headers=as_window())
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in both) == [200, 200, 200, 200, 201]
    # the same key for another amount is refused
    assert_problem(
        await client.post(f"/accounts/{holder}/debits", json=debit_body(holder, 999), headers=key),
        409,
        "idempotency_key_reused",
    )
    assert_problem(
        await client.post(
            f"/accounts/{holder}/debits", json=debit_body(holder), headers=as_window()
        ),
        422,
    )

    account = (await client.get(f"/accounts/{holder}", headers=as_person(holder))).json()
    assert account["balance_fen"] == 3500
    assert [t["kind"] for t in account["transactions"]].count("debit") == 2
    balance, postings, _ = await ledger(app, account["account_id"])
    assert balance == postings == 3500
    debited = [e.event for e in await outbox_of(app, holder) if e.type == A + "debited.v1"]
    assert [e.balance_after_fen for e in debited if isinstance(e, AccountDebited)] == [3800, 3500]


async def test_credits_from_contributions_delivered_twice_are_credited_once(app, client, settings):
    holder = new_person()
    registered = Envelope(enrolled(holder), source="/chs/enrollment")
    contribution = Envelope(paid(holder, "202609"), source="/chs/enrollment")
    # born 1980: 45 or older, the shipped rule adds 10 % of the employer part
    await publish(
        settings,
        person(holder, date(1980, 2, 2)),
        registered,
        registered,
        contribution,
        contribution,  # the same envelope twice: the inbox
        paid(holder, "202609"),  # the same payment, a new envelope: the posting id
        paid(holder, "202610"),
    )
    account = await balance_becomes(client, holder, 2 * (13000 + 5850))
    assert [t["kind"] for t in account["transactions"]] == ["credit", "credit"]
    assert account["transactions"][0]["balance_after_fen"] == 37700
    assert account["transactions"][1]["counterpart"] == "fund:allocation"
    events = await outbox_of(app, holder)
    assert [e.type for e in events] == [A + "opened.v1", A + "credited.v1", A + "credited.v1"]
    credited = [e.event for e in events[1:] if isinstance(e.event, AccountCredited)]
    assert [e.balance_after_fen for e in credited] == [18850, 37700]
    assert events[1].causation_id == contribution.id
    assert credited[0].rule_id == "SD-2026-01"
    balance, postings, _ = await ledger(app, account["account_id"])
    assert balance == postings == 37700


async def test_family_mutual_aid_and_the_refusals(app, client, settings):
    holder = await holder_with(settings, client, 5000)
    child, stranger, resident = new_person(), new_person(), new_person()
    url, mine = f"/accounts/{holder}", as_person(holder)
    assert_problem(
        await client.post(
            f"{url}/debits",
            json=debit_body(child),
            headers=as_window(f"K-{child[-10:]}-1"),
        ),
        403,
        "spender_not_authorized",
    )

    authorized = await client.post(
        f"{url}/family", json={"member_person_id": child, "relation": "child"}, headers=mine
    )
    assert authorized.status_code == 201, authorized.text
    assert (
        await client.post(
            f"{url}/family", json={"member_person_id": child, "relation": "child"}, headers=mine
        )
    ).status_code == 200
    assert_problem(
        await client.post(
            f"{url}/family", json={"member_person_id": child, "relation": "spouse"}, headers=mine
        ),
        422,
    )
    assert_problem(
        await client.post(
            f"{url}/family", json={"member_person_id": holder, "relation": "spouse"}, headers=mine
        ),
        422,
    )
    assert_problem(
        await client.post(
            f"{url}/family",
            json={"member_person_id": stranger, "relation": "cousin"},
            headers=mine,
        ),
        422,
    )
    spent = await client.post(
        f"{url}/debits",
        json=debit_body(child, 1650),
        headers=as_window(f"K-{child[-10:]}-2"),
    )
    assert spent.status_code == 201, spent.text
    assert spent.json()["balance_after_fen"] == 3350
    assert_problem(
        await client.post(
            f"{url}/debits",
            json=debit_body(stranger),
            headers=as_window(f"K-{child[-10:]}-3"),
        ),
        403,
        "spender_not_authorized",
    )
    assert (await client.delete(f"{url}/family/{child}", headers=mine)).status_code == 204
    assert_problem(await client.delete(f"{url}/family/{child}", headers=mine), 404)
    assert_problem(
        await client.post(
            f"{url}/debits",
            json=debit_body(child),
            headers=as_window(f"K-{child[-10:]}-4"),
        ),
        403,
        "spender_not_authorized",
    )
    events = list(await outbox_of(app, holder))
    assert [e.type for e in events][-3:] == [
        A + "family-member.authorized.v1",
        A + "debited.v1",
        A + "family-member.revoked.v1",
    ]
    spent_event = events[-2].event
    assert isinstance(spent_event, AccountDebited)
    assert spent_event.relation == "child" and spent_event.spender_person_id == child

    # a resident has no account; contributions to a resident enrollment credit nothing
    await publish(
        settings,
        person(resident),
        enrolled(resident, "390"),
        paid(resident, "202610", insutype="390", personal=0, employer=38000),
    )
    await publish(settings, person(stranger), enrolled(stranger))  # the stream got this far
    await balance_becomes(client, stranger, 0)
    problem = assert_problem(
        await client.post(
            f"/accounts/{resident}/debits",
            json=debit_body(resident),
            headers=as_window("K-resident-1"),
        ),
        404,
        "no_account",
    )
    assert "resident (390)" in problem["detail"]
    unknown = new_person()
    assert_problem(
        await client.get(f"/accounts/{unknown}", headers=as_person(unknown)), 404, "no_account"
    )


async def test_death_pays_the_heirs_and_transfers_move_the_balance(app, client, settings):
    dead = await holder_with(settings, client, 7700)
    await publish(
        settings,
        EnrollmentTerminated(
            person_id=dead,
            enrollment_id=f"en-{dead[-8:]}-310",
            insutype="310",
            end_date=date(2026, 11, 20),
            reason="death",
        ),
    )

    async def closed(person_id):
        account = (await client.get(f"/accounts/{person_id}", headers=as_agency())).json()
        return account if account["status"] == "closed" else None

    account = await until(lambda: closed(dead), timeout=30)
    assert (account["balance_fen"], account["closed_reason"]) == (0, "death")
    assert account["transactions"][0]["counterpart"] == f"heirs:{account['account_id']}"
    withdrawn = (await outbox_of(app, dead))[-1]
    assert withdrawn.type == A + "withdrawn.v1"
    assert isinstance(withdrawn.event, AccountWithdrawn) and withdrawn.event.amount_fen == 7700
    assert_problem(
        await client.post(
            f"/accounts/{dead}/debits",
            json=debit_body(dead),
            headers=as_window("K-dead-0001"),
        ),
        409,
        "account_closed",
    )

    mover = await holder_with(settings, client, 4400)
    out = completion(mover, QINGDAO, SUZHOU, f"tr-{mover[-8:]}")
    await publish(settings, out, out)
    account = await until(lambda: closed(mover), timeout=30)
    assert (account["balance_fen"], account["closed_reason"]) == (0, "transferred_out")
    # into the province: the balance the national transfer platform confirmed, with its
    # reference and the receiving region's staff who entered it
    back = completion(
        mover, SUZHOU, QINGDAO, f"tb-{mover[-8:]}", confirmed=(9100, "ZY2026112200017", "qd-7")
    )
    await publish(settings, back, back)
    account = await balance_becomes(client, mover, 9100)
    assert (account["status"], account["pooling_region"]) == ("open", QINGDAO)
    events = await outbox_of(app, mover)
    assert [e.type for e in events][-2:] == [A + "transferred-out.v1", A + "transferred-in.v2"]
    moved_out, moved_in = events[-2].event, events[-1].event
    assert isinstance(moved_out, AccountTransferredOut) and moved_out.amount_fen == 4400
    assert isinstance(moved_in, AccountTransferredIn)
    assert (moved_in.amount_fen, moved_in.platform_reference, moved_in.confirmed_by) == (
        9100,
        "ZY2026112200017",
        "qd-7",
    )
    async with app.state.pool.acquire() as conn:
        recorded = await conn.fetchrow(
            "select amount_fen, platform_reference, entered_by, region from ledger_transactions "
            "where transaction_id = $1",
            f"transfer-in:tb-{mover[-8:]}",
        )
    assert dict(recorded) == {
        "amount_fen": 9100,
        "platform_reference": "ZY2026112200017",
        "entered_by": "qd-7",
        "region": SUZHOU,
    }
    balance, postings, everything = await ledger(app, account["account_id"])
    assert balance == postings == 9100 and everything == 0


async def test_out_of_the_province_and_back_with_a_stated_balance_mints_nothing(
    app, client, settings
):
    """Out of the province, then back in with 10^12 fen stated by the caller: the completion
    is refused (dead-lettered with the reason), the ledger is unchanged and nothing can be spent
    from it."""
    mover = await holder_with(settings, client, 4400)
    out = Envelope(completion(mover, QINGDAO, SUZHOU, stated_fen=4400), source="/chs/transfer")
    await publish(settings, out)

    async def closed():
        account = (await client.get(f"/accounts/{mover}", headers=as_agency())).json()
        return account if account["status"] == "closed" else None

    account = await until(closed, timeout=30)
    assert account["balance_fen"] == 0  # the ledger's 4400 left, whatever was stated
    before = await ledger(app, account["account_id"])
    events_before = [e.type for e in await outbox_of(app, mover)]

    minted = Envelope(completion(mover, SUZHOU, QINGDAO, stated_fen=10**12), source="/chs/transfer")
    await publish(settings, minted)
    headers = await dead_lettered(settings, minted)
    assert b"national transfer platform" in headers["dlq_reason"]

    spent = await client.post(
        f"/accounts/{mover}/debits",
        json=debit_body(mover, 10**9),
        headers=as_window(f"MINT-{mover[-8:]}"),
    )
    assert_problem(spent, 409, "account_closed")
    after = (await client.get(f"/accounts/{mover}", headers=as_agency())).json()
    assert (after["status"], after["balance_fen"]) == ("closed", 0)
    assert await ledger(app, account["account_id"]) == before
    assert [e.type for e in await outbox_of(app, mover)] == events_before

    # a v2 completion into the province without the platform's confirmation is refused too
    unconfirmed = Envelope(completion(mover, SUZHOU, QINGDAO), source="/chs/transfer")
    await publish(settings, unconfirmed)
    await dead_lettered(settings, unconfirmed)
    assert await ledger(app, account["account_id"]) == before


async def test_a_debit_keyed_like_an_internal_posting_leaves_the_other_posting_intact(
    app, client, settings
):
    """A window's 1-fen debit whose key is the id of a posting the ledger makes later (a
    contribution's credit, a death's withdrawal) is the window's own: the other posting still
    happens in full."""
    holder = await holder_with(settings, client, 5000)
    enrollment_id = f"en-{holder[-8:]}-310"
    late = paid(holder, "202611", personal=3000)
    for key in (f"contribution:{late.payment_id}", f"withdrawal:{enrollment_id}"):
        spent = await client.post(
            f"/accounts/{holder}/debits", json=debit_body(holder, 1), headers=as_window(key)
        )
        assert spent.status_code == 201, spent.text
        assert spent.json()["transaction_id"] == key  # the window reads back its own key
    await publish(settings, late)
    account = await balance_becomes(client, holder, 5000 - 2 + 3000)
    credits = [t for t in account["transactions"] if t["kind"] == "credit"]
    assert [t["amount_fen"] for t in credits] == [3000, 5000]

    await publish(
        settings,
        EnrollmentTerminated(
            person_id=holder,
            enrollment_id=enrollment_id,
            insutype="310",
            end_date=date(2026, 11, 20),
            reason="death",
        ),
    )

    async def withdrawn():
        account = (await client.get(f"/accounts/{holder}", headers=as_agency())).json()
        return account if account["status"] == "closed" else None

    account = await until(withdrawn, timeout=30)
    assert (account["balance_fen"], account["closed_reason"]) == (0, "death")
    assert account["transactions"][0]["kind"] == "withdrawal"
    assert account["transactions"][0]["amount_fen"] == 7998
    balance, postings, everything = await ledger(app, account["account_id"])
    assert (balance, postings, everything) == (0, 0, 0)
    types = [e.type for e in await outbox_of(app, holder)]
    assert types.count(A + "credited.v1") == 2 and types[-1] == A + "withdrawn.v1"


@pytest.mark.parametrize("version", ["v2", "v1 with a stated balance"])
async def test_a_transfer_within_the_province_moves_exactly_the_ledger_balance(
    app, client, settings, version
):
    """After debits, the move to Jinan is one movement of exactly what the ledger holds (a
    v1 record's stated balance is ignored)."""
    holder = await holder_with(settings, client, 5000)
    for n, fen in enumerate((1200, 50)):
        spent = await client.post(
            f"/accounts/{holder}/debits",
            json=debit_body(holder, fen),
            headers=as_window(f"POS-{holder[-8:]}-{n}"),
        )
        assert spent.status_code == 201, spent.text
    transfer_id = f"tw-{holder[-8:]}"
    await publish(
        settings,
        completion(holder, QINGDAO, JINAN, transfer_id)
        if version == "v2"
        else completion(holder, QINGDAO, JINAN, transfer_id, stated_fen=99999),
    )

    async def moved():
        events = await outbox_of(app, holder)
        return events if events[-1].type == A + "transferred-within.v1" else None

    events = await until(moved, timeout=30)
    event = events[-1].event
    assert isinstance(event, AccountTransferredWithin)
    assert (event.transfer_id, event.from_region, event.to_region) == (transfer_id, QINGDAO, JINAN)
    assert event.amount_fen == event.balance_after_fen == 3750
    assert event.transaction_id == f"transfer-within:{transfer_id}"
    account = (await client.get(f"/accounts/{holder}", headers=as_agency(JINAN))).json()
    assert (account["status"], account["pooling_region"], account["balance_fen"]) == (
        "open",
        JINAN,
        3750,
    )
    assert account["transactions"][0]["kind"] == "transfer_within"
    balance, postings, everything = await ledger(app, account["account_id"])
    assert balance == postings == 3750 and everything == 0


async def test_a_contribution_after_the_transfer_out_is_forwarded_not_dead_lettered(
    app, client, settings
):
    """The transfer out closed the account before a contribution for an earlier month arrived
    (the transfer topic's consumer was faster): the contribution is credited and forwarded after
    the transfer, so what is owed does not depend on that race."""
    mover = await holder_with(settings, client, 4400)
    transfer_id = f"tr-{mover[-8:]}"
    await publish(settings, completion(mover, QINGDAO, SUZHOU, transfer_id, stated_fen=4400))

    async def closed():
        account = (await client.get(f"/accounts/{mover}", headers=as_agency())).json()
        return account if account["status"] == "closed" else None

    await until(closed, timeout=30)
    late = paid(mover, "202611", personal=2600)
    await publish(settings, late, late)

    async def forwarded():
        events = await outbox_of(app, mover)
        return events if events[-1].type == A + "transferred-out.v1" and len(events) > 3 else None

    events = await until(forwarded, timeout=30)
    assert [e.type for e in events][-3:] == [
        A + "transferred-out.v1",
        A + "credited.v1",
        A + "transferred-out.v1",
    ]
    credited, forward = events[-2].event, events[-1].event
    assert isinstance(credited, AccountCredited) and credited.payment_id == late.payment_id
    assert (credited.amount_fen, credited.balance_after_fen) == (2600, 2600)
    assert isinstance(forward, AccountTransferredOut)
    assert (forward.transfer_id, forward.to_region, forward.amount_fen) == (
        transfer_id,
        SUZHOU,
        2600,
    )
    assert forward.balance_after_fen == 0
    account = (await client.get(f"/accounts/{mover}", headers=as_agency())).json()
    assert (account["status"], account["balance_fen"]) == ("closed", 0)
    balance, postings, everything = await ledger(app, account["account_id"])
    assert (balance, postings, everything) == (0, 0, 0)
    async with app.state.pool.acquire() as conn:
        moved = await conn.fetchval(
            "select sum(amount_fen)::bigint from ledger_transactions "
            "where kind = 'transfer_out' and reference = $1",
            transfer_id,
        )
    assert moved == 4400 + 2600
