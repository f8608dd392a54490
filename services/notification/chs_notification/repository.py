"""The notification database's queries: contacts, messages, delivery statistics, and the
NOTIFY channel that wakes the dispatcher."""

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from chs_notification.commands import RequestNotice
from chs_notification.model import Message

# NOTIFY channel the dispatcher listens on: a queued notice, a contact that arrived.
DISPATCH_CHANNEL = "chs_dispatch"


async def wake_dispatcher(conn: asyncpg.Connection) -> None:
    """NOTIFY, delivered when the caller's transaction commits."""
    await conn.execute("select pg_notify($1, '')", DISPATCH_CHANNEL)


# ---------------------------------------------------------------------------------- contacts


async def upsert_contact(
    conn: asyncpg.Connection,
    person_id: str,
    *,
    name: str,
    mobile: str | None,
    birth_date: date,
    guardian_person_id: str | None,
    at: datetime,
    deceased_on: date | None = None,
) -> None:
    """PersonContact: the person's whole contact as it now is."""
    await conn.execute(
        """insert into contacts (person_id, name, mobile, birth_date, guardian_person_id,
                                 updated_at, deceased_on)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (person_id) do update
           set name = excluded.name, mobile = excluded.mobile,
               birth_date = excluded.birth_date,
               guardian_person_id = excluded.guardian_person_id,
               updated_at = excluded.updated_at, deceased_on = excluded.deceased_on""",
        person_id,
        name,
        mobile,
        birth_date,
        guardian_person_id,
        at,
        deceased_on,
    )


async def wake_messages_waiting_for(conn: asyncpg.Connection, person_id: str) -> int:
    """Make the never-sent queued messages of the person (or of the newborns whose guardian
    the person is) due now: they may be waiting for this contact (not those deferred out of the
    quiet hours, ``not_before``). Rows a dispatcher holds are skipped rather than waited for: it
    rechecks a missing contact every poll interval."""
    status = await conn.execute(
        """update messages set next_attempt_at = now()
           where message_id in (
               select message_id from messages
               where status = 'queued' and attempts = 0 and next_attempt_at > now()
                 and (not_before is null or not_before <= now())
                 and (person_id = $1 or person_id in (
                     select person_id from contacts where guardian_person_id = $1))
               for update skip locked)""",
        person_id,
    )
    return int(status.split()[-1])


_CONTACT_NAMES = (
    "person_id",
    "name",
    "mobile",
    "birth_date",
    "guardian_person_id",
    "updated_at",
    "deceased_on",
)
CONTACT_COLUMNS = ", ".join(_CONTACT_NAMES)


async def get_contact(conn: asyncpg.Connection, person_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {CONTACT_COLUMNS} from contacts where person_id = $1", person_id
    )


# The guardians' ids joined to the array first: one index scan of the keys (an ``or`` with a
# subquery would scan the whole directory for every notice).
_CONTACTS_WITH_GUARDIANS = f"""select {CONTACT_COLUMNS} from contacts
    where person_id = any({{ids}}::text[] || array(
        select guardian_person_id from contacts
        where person_id = any({{ids}}::text[]) and guardian_person_id is not null))"""


async def contacts_with_guardians(
    conn: asyncpg.Connection, person_ids: Collection[str]
) -> dict[str, asyncpg.Record]:
    """The contacts of the persons and of their guardians, by person id, in one statement."""
    rows = await conn.fetch(_CONTACTS_WITH_GUARDIANS.format(ids="$1"), list(person_ids))
    return {row["person_id"]: row for row in rows}


async def queued_messages_to(conn: asyncpg.Connection, person_id: str) -> list[asyncpg.Record]:
    """Lock the queued messages of the person and of the newborns whose guardian the person is
    (their messages go to the person's mobile); rows a dispatcher holds are skipped."""
    return await conn.fetch(
        f"""select {MESSAGE_COLUMNS} from messages
            where status = 'queued'
              and (person_id = $1 or person_id in (
                  select person_id from contacts where guardian_person_id = $1))
            for update skip locked""",
        person_id,
    )


# ---------------------------------------------------------------------------------- messages

MESSAGE_COLUMNS = """message_id, notice_id, person_id, template_id, category, priority, params,
    request_event_id, correlation_id, to_mobile, text, sender, mobile_masked, recipient_person_id,
    status, attempts, next_attempt_at, last_error, provider_message_id, early_receipt, created_at,
    sent_at, delivered_at, final_at, not_before"""

_UPDATABLE = frozenset(
    {
        "text",
        "sender",
        "mobile_masked",
        "recipient_person_id",
        "status",
        "attempts",
        "next_attempt_at",
        "not_before",
        "last_error",
        "provider_message_id",
        "early_receipt",
        "sent_at",
        "delivered_at",
        "final_at",
    }
)


_INSERT_MESSAGE = """insert into messages (message_id, notice_id, person_id, template_id, category,
                                 priority, params, request_event_id, correlation_id, to_mobile)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           on conflict (notice_id) do nothing"""


def _message_values(
    notice: RequestNotice,
    message_id: UUID,
    request_event_id: str,
    correlation_id: str | None,
    to_mobile: str | None,
) -> tuple[Any, ...]:
    """``_INSERT_MESSAGE``'s $1 … $10."""
    return (
        message_id,
        notice.notice_id,
        notice.person_id,
        notice.template_id,
        notice.category,
        notice.priority,
        dict(notice.params),
        request_event_id,
        correlation_id,
        to_mobile,
    )


async def insert_message(
    conn: asyncpg.Connection,
    notice: RequestNotice,
    *,
    message_id: UUID,
    request_event_id: str,
    correlation_id: str | None,
    to_mobile: str | None = None,
    wake: bool = False,
) -> bool:
    """Queue a message for the notice; False when the notice id is already known (dedupe).
    ``to_mobile``: a number of the directory's own choosing (a contact change's code to the
    new number, its notice to the previous one) instead of the person's current mobile.
    ``wake``: and wake the dispatcher (``wake_dispatcher``) if it was queued, in the same
    statement."""
    query = (
        f"""with inserted as ({_INSERT_MESSAGE} returning 1)
            select count(*) > 0 from (select pg_notify($11, '') from inserted) as woken"""
        if wake
        else f"{_INSERT_MESSAGE} returning true"
    )
    inserted = await conn.fetchval(
        query,
        *_message_values(notice, message_id, request_event_id, correlation_id, to_mobile),
        *((DISPATCH_CHANNEL,) if wake else ()),
    )
    return bool(inserted)


async def queue_reading_contacts(
    conn: asyncpg.Connection,
    notice: RequestNotice,
    person_ids: Collection[str],
    *,
    message_id: UUID,
    request_event_id: str,
    correlation_id: str | None,
) -> tuple[bool, dict[str, asyncpg.Record]]:
    """``insert_message`` with ``wake``, and ``contacts_with_guardians`` of ``person_ids`` as
    they were before it, in one statement: whether it was queued, and the contacts."""
    rows = await conn.fetch(
        f"""with inserted as ({_INSERT_MESSAGE} returning 1),
                 woken as (select count(pg_notify($11, '')) as n from inserted)
            select woken.n > 0 as queued, c.*
            from woken left join ({_CONTACTS_WITH_GUARDIANS.format(ids="$12")}) as c on true""",
        *_message_values(notice, message_id, request_event_id, correlation_id, None),
        DISPATCH_CHANNEL,
        list(person_ids),
    )
    contacts = {row["person_id"]: row for row in rows if row["person_id"] is not None}
    return bool(rows[0]["queued"]), contacts


async def claim_due(
    conn: asyncpg.Connection, limit: int, now: datetime | None = None
) -> list[asyncpg.Record]:
    """Lock the messages queued and due at ``now`` (the dispatcher's clock; the database's when
    None) for this transaction; rows another instance holds are skipped. Each row also says
    whether its person opted out of push and broadcast (``opted_out``)."""
    return await conn.fetch(
        f"""select {MESSAGE_COLUMNS}, exists (
                select from push_preferences p
                where p.person_id = messages.person_id and p.opted_out) as opted_out
            from messages
            where status = 'queued' and next_attempt_at <= coalesce($2, now())
            order by next_attempt_at, created_at limit $1
            for update skip locked""",
        limit,
        now,
    )


async def lock_message(conn: asyncpg.Connection, message_id: UUID | str) -> asyncpg.Record | None:
    """Lock one message (waiting for a dispatcher that is sending it to commit)."""
    return await conn.fetchrow(
        f"select {MESSAGE_COLUMNS} from messages where message_id = $1 for update",
        _uuid(message_id),
    )


async def update_message(
    conn: asyncpg.Connection, message_id: UUID | str, fields: Mapping[str, Any]
) -> None:
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = list(fields)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"update messages set {assignments} where message_id = $1",
        _uuid(message_id),
        *(fields[name] for name in names),
    )


# The columns ``update_messages`` writes, with their types (every updatable one but
# ``early_receipt``, which only a receipt sets).
_BATCH_COLUMNS = {
    "text": "text",
    "sender": "text",
    "mobile_masked": "text",
    "recipient_person_id": "text",
    "status": "text",
    "attempts": "int",
    "next_attempt_at": "timestamptz",
    "not_before": "timestamptz",
    "last_error": "text",
    "provider_message_id": "text",
    "sent_at": "timestamptz",
    "delivered_at": "timestamptz",
    "final_at": "timestamptz",
}
_UPDATE_MESSAGES = f"""update messages as m
    set {", ".join(f"{name} = u.{name}" for name in _BATCH_COLUMNS)}
    from unnest($1::uuid[], {
    ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_BATCH_COLUMNS.values(), start=2))
}) as u(message_id, {", ".join(_BATCH_COLUMNS)})
    where m.message_id = u.message_id"""


async def update_messages(conn: asyncpg.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store many messages, each as it now is (its ``messages`` row's columns, the changed
    ones changed), in one statement."""
    if rows:
        await conn.execute(
            _UPDATE_MESSAGES,
            [_uuid(row["message_id"]) for row in rows],
            *([row[name] for row in rows] for name in _BATCH_COLUMNS),
        )


async def lock_messages(
    conn: asyncpg.Connection, message_ids: Collection[UUID | str]
) -> dict[UUID, asyncpg.Record]:
    """``lock_message`` for many, in one statement (in message id order), by message id."""
    rows = await conn.fetch(
        f"""select {MESSAGE_COLUMNS} from messages where message_id = any($1::uuid[])
            order by message_id for update""",
        [_uuid(message_id) for message_id in message_ids],
    )
    return {row["message_id"]: row for row in rows}


async def save_message(
    conn: asyncpg.Connection, message: Message, fields: Mapping[str, Any]
) -> None:
    """Store a message's new status (and when it became final) with the columns its send or
    receipt set."""
    changes = {**fields, "status": message.status.value}
    if message.final:
        changes["final_at"] = message.final_at
    await update_message(conn, message.message_id, changes)


async def seconds_until_next_due(conn: asyncpg.Connection) -> float | None:
    value = await conn.fetchval(
        """select extract(epoch from min(next_attempt_at) - clock_timestamp())
           from messages where status = 'queued'"""
    )
    return None if value is None else float(value)


async def person_messages(
    conn: asyncpg.Connection, person_id: str, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""select {MESSAGE_COLUMNS} from messages where person_id = $1
            order by created_at desc, message_id desc limit $2""",
        person_id,
        limit,
    )


async def get_message(conn: asyncpg.Connection, message_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {MESSAGE_COLUMNS} from messages where message_id = $1", message_id
    )


async def delivery_stats(
    conn: asyncpg.Connection, date_from: date, date_to: date, template_id: str | None
) -> list[asyncpg.Record]:
    """Messages per template and day (Asia/Shanghai, by when the notice arrived)."""
    return await conn.fetch(
        """select template_id,
                  (created_at at time zone 'Asia/Shanghai')::date as day,
                  count(*) as total,
                  count(*) filter (where status = 'delivered') as delivered,
                  count(*) filter (where status = 'failed') as failed,
                  count(*) filter (where status = 'undeliverable') as undeliverable,
                  count(*) filter (where status = 'opted_out') as opted_out,
                  count(*) filter (where status = 'capped') as capped,
                  count(*) filter (where status in ('queued', 'sent')) as pending
           from messages
           where created_at >= ($1::date)::timestamp at time zone 'Asia/Shanghai'
             and created_at < ($2::date + 1)::timestamp at time zone 'Asia/Shanghai'
             and ($3::text is null or template_id = $3)
           group by 1, 2 order by 2, 1""",
        date_from,
        date_to,
        template_id,
    )


# --------------------------------------------------------------- push and broadcast rules


async def opted_out(conn: asyncpg.Connection, person_id: str) -> bool:
    """Whether the person opted out of push and broadcast (no row: opted in)."""
    return bool(
        await conn.fetchval(
            "select opted_out from push_preferences where person_id = $1", person_id
        )
    )


async def counted_messages(
    conn: asyncpg.Connection,
    person_id: str,
    template_ids: Collection[str],
    day: date,
    *,
    zone: ZoneInfo,
    leaving_out: UUID,
) -> tuple[int, int]:
    """The person's messages of the templates (a category's) sent or still queued that go out
    on ``day`` and in its month (days in ``zone``), each counted by when it was sent, or is to
    go (its ``not_before``, else when it was queued); ``leaving_out`` is not counted."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    row = await conn.fetchrow(
        """select count(*) filter (where goes_out >= $3 and goes_out < $4) as day,
                  count(*) as month
           from (select coalesce(sent_at, not_before, created_at) as goes_out from messages
                 where person_id = $1 and template_id = any($2::text[]) and message_id <> $7
                   and (sent_at is not null or status = 'queued')) as counted
           where goes_out >= $5 and goes_out < $6""",
        person_id,
        list(template_ids),
        datetime.combine(day, time(), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
        datetime.combine(first, time(), tzinfo=zone),
        datetime.combine(following, time(), tzinfo=zone),
        leaving_out,
    )
    assert row is not None
    return int(row["day"]), int(row["month"])


PUSH_PREFERENCE_COLUMNS = "person_id, opted_out, via, changed_at"


async def get_push_preference(conn: asyncpg.Connection, person_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {PUSH_PREFERENCE_COLUMNS} from push_preferences where person_id = $1",
        person_id,
    )


# The preference stored only when it changes (no row is opted in): the ``outbox.Change`` of
# ``UnitOfWork.record_with``, which records the event only when a row was written.
SET_PUSH_PREFERENCE = """insert into push_preferences as p (person_id, opted_out, via, changed_at)
    select $1, $2, $3, $4
    where $2 or exists (select from push_preferences where person_id = $1)
    on conflict (person_id) do update
    set opted_out = excluded.opted_out, via = excluded.via, changed_at = excluded.changed_at
    where p.opted_out is distinct from excluded.opted_out
    returning 1"""


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
