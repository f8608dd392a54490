"""A verified death from the feed to the heirs, across two services on the real broker and
database: enrollment's ``enrollment-deaths`` ends the employee enrollment (EnrollmentTerminated,
reason death), its relay publishes it, and accounts' ``accounts-ledger`` withdraws the
personal account to the heirs (AccountWithdrawn) — each step caused by the one before."""

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from stdnum.cn import ric

from chs_accounts.api import create_app as create_accounts_app
from chs_accounts.consumers import LEDGER_CONSUMER, LEDGER_TOPICS, ledger_handlers
from chs_accounts.settings import AccountsSettings
from chs_enrollment.api import create_app as create_enrollment_app
from chs_enrollment.consumers import DEATHS_CONSUMER, DEATHS_HANDLERS, DEATHS_TOPICS
from chs_enrollment.settings import EnrollmentSettings
from chs_events.admin import ensure_topics
from chs_events.consumer import ConsumerRunner
from chs_events.envelope import Envelope
from chs_events.events.account import AccountWithdrawn
from chs_events.events.enrollment import EnrollmentTerminated, PersonDeceased
from chs_events.events.feeds import DeathRecorded
from chs_events.kafka import create_producer
from chs_events.outbox import OutboxRelay
from chs_events.topics import (
    BY_NAME,
    DEATH_FEED,
    ENROLLMENT_CONTACTS,
    ENROLLMENT_EVENTS,
    TRANSFER_EVENTS,
    dead_letter_spec,
)
from tests.support import broker
from tests.support.broker import until
from tests.support.people import hire
from tests.support.service import outbox_of, running, throwaway_database
from tests.support.tokens import EnrollmentCallers, bearer

pytestmark = pytest.mark.integration

PREFIX = f"t{secrets.token_hex(4)}."
ADMIN_TOKEN = "integration-admin-token"
QINGDAO = "370200"
DIED = date(2026, 3, 10)
_serial = itertools.count(1)


def new_id_number() -> str:
    body = f"370202{date(1961, 9, 1):%Y%m%d}{next(_serial) * 2 % 1000 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(scope="module")
async def platform(database_url: str, kafka_bootstrap: str) -> AsyncIterator[tuple]:
    """Enrollment (API, death consumer, relay) and accounts (API, ledger consumer), each on a
    database of its own, on this module's topics."""
    specs = [BY_NAME[name] for name in (ENROLLMENT_EVENTS, ENROLLMENT_CONTACTS, TRANSFER_EVENTS)]
    specs.append(BY_NAME[DEATH_FEED])
    await ensure_topics(kafka_bootstrap, PREFIX, [*specs, *map(dead_letter_spec, specs)])
    async with (
        throwaway_database(database_url, "enrollment") as enrollment_db,
        throwaway_database(database_url, "accounts") as accounts_db,
    ):
        common: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap": kafka_bootstrap,
            "topic_prefix": PREFIX,
        }
        enrollment_settings = EnrollmentSettings(
            database_name=enrollment_db, admin_token=ADMIN_TOKEN, **common
        )
        accounts_settings = AccountsSettings(database_name=accounts_db, **common)
        async with (
            running(create_enrollment_app(enrollment_settings)) as enrollment,
            running(create_accounts_app(accounts_settings)) as accounts,
        ):
            stop = asyncio.Event()
            producer = create_producer(enrollment_settings, "enrollment-relay")
            await producer.start()
            relay = OutboxRelay(
                enrollment_settings.database_dsn,
                producer,
                service="enrollment",
                topic_prefix=PREFIX,
                poll_interval=0.2,
            )
            runners = [
                ConsumerRunner(
                    name=DEATHS_CONSUMER,
                    topics=DEATHS_TOPICS,
                    handlers=DEATHS_HANDLERS,
                    pool=enrollment.state.pool,
                    settings=enrollment_settings,
                ),
                ConsumerRunner(
                    name=LEDGER_CONSUMER,
                    topics=LEDGER_TOPICS,
                    handlers=ledger_handlers(accounts_settings),
                    pool=accounts.state.pool,
                    settings=accounts_settings,
                ),
            ]
            tasks = [
                asyncio.create_task(relay.run(stop)),
                *(asyncio.create_task(runner.run(stop)) for runner in runners),
            ]
            try:
                yield enrollment, accounts
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                await producer.stop()


async def employee_with_a_credited_account(
    enrollment, accounts, *, left_on: date | None = None
) -> tuple[str, str, dict]:
    """An employee since 2025-01-01 whose contribution reached the account (and who left the
    employer on ``left_on``, when given): the person id, the enrollment id and the account as
    the agency reads it."""
    async with EnrollmentCallers(
        transport=httpx.ASGITransport(app=enrollment), base_url="http://enrollment"
    ) as client:
        employer, item = await hire(
            client,
            ADMIN_TOKEN,
            "寿光蔬菜物流有限公司",
            id_number=new_id_number(),
            name="孙立民",
            mobile=f"1385321{next(_serial):04d}",
        )
        paid = await client.post(
            "/contributions",
            json={
                "payment_id": f"QD-{secrets.token_hex(4)}",
                "enrollment_id": item["enrollment_id"],
                "period": "202602",
                "amount_fen": 65000,
                "employer_part_fen": 52000,
            },
        )
        assert paid.status_code == 201, paid.text
        if left_on is not None:
            removed = await client.post(
                f"/employers/{employer['employer_id']}/staff/batch-remove",
                headers={"X-API-Key": employer["api_key"]},
                json={"items": [{"person_id": item["person_id"], "end_date": str(left_on)}]},
            )
            assert removed.status_code == 200, removed.text

    async def credited():
        account = await read_account(accounts, item["person_id"])
        return account if account and account["balance_fen"] > 0 else None

    return item["person_id"], item["enrollment_id"], await until(credited, timeout=30)


async def read_account(accounts, person_id: str) -> dict | None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=accounts), base_url="http://accounts"
    ) as client:
        response = await client.get(
            f"/accounts/{person_id}",
            headers=bearer("accounts", kind="agency", region=QINGDAO),
        )
    return response.json() if response.status_code == 200 else None


async def publish_death(enrollment, person_id: str) -> Envelope:
    envelope = Envelope(
        DeathRecorded(
            person_id=person_id,
            record_id=f"rec-{secrets.token_hex(4)}",
            date_of_death=DIED,
            source="police",
            region_code="370783",
        ),
        source="/chs/feeds",
    )
    await broker.publish(enrollment.state.settings, PREFIX + DEATH_FEED, envelope)
    return envelope


async def test_a_death_in_the_feed_withdraws_the_account_to_the_heirs(platform):
    enrollment, accounts = platform
    person_id, enrollment_id, account = await employee_with_a_credited_account(enrollment, accounts)

    death = await publish_death(enrollment, person_id)

    async def closed():
        found = await read_account(accounts, person_id)
        return found if found and found["status"] == "closed" else None

    closed_account = await until(closed, timeout=60)
    assert (closed_account["balance_fen"], closed_account["closed_reason"]) == (0, "death")
    async with enrollment.state.pool.acquire() as conn:
        recorded = await outbox_of(conn, person_id)
    [terminated] = [e for e in recorded if e.type == EnrollmentTerminated.ce_type]
    [deceased] = [e for e in recorded if e.type == PersonDeceased.ce_type]
    assert terminated.causation_id == deceased.causation_id == death.id
    assert isinstance(terminated.event, EnrollmentTerminated)
    assert (terminated.event.enrollment_id, terminated.event.end_date) == (enrollment_id, DIED)
    async with accounts.state.pool.acquire() as conn:
        [withdrawn] = [
            e for e in await outbox_of(conn, person_id) if e.type == AccountWithdrawn.ce_type
        ]
    # once, caused by whichever of the two death events accounts read first (the PersonDeceased)
    assert withdrawn.causation_id in {deceased.id, terminated.id}
    assert isinstance(withdrawn.event, AccountWithdrawn)
    assert withdrawn.event.amount_fen == account["balance_fen"]


async def test_a_death_after_leaving_the_employer_still_withdraws_the_open_account(platform):
    """No enrollment ends with this death (it ended when she left): the account, still open
    with its balance, is withdrawn on the PersonDeceased alone, once."""
    enrollment, accounts = platform
    person_id, enrollment_id, account = await employee_with_a_credited_account(
        enrollment, accounts, left_on=date(2026, 2, 28)
    )
    assert account["status"] == "open" and account["balance_fen"] > 0

    await publish_death(enrollment, person_id)

    async def closed():
        found = await read_account(accounts, person_id)
        return found if found and found["status"] == "closed" else None

    closed_account = await until(closed, timeout=60)
    assert (closed_account["balance_fen"], closed_account["closed_reason"]) == (0, "death")
    async with accounts.state.pool.acquire() as conn:
        withdrawals = await conn.fetch(
            "select transaction_id from ledger_transactions where kind = 'withdrawal'"
            " and transaction_id = $1",
            f"withdrawal:{enrollment_id}",
        )
    assert len(withdrawals) == 1
