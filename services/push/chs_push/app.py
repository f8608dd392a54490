"""The push processor: the events a profile is folded from → each person's profile in a faust
table (``profiles``, its changelog ``chs.push.state.profiles``) and its projection in push's
PostgreSQL (``profiles``), which preview counts and fan-out scans; and the event-triggered push
rules (``rules.triggers``, data) → the notices they ask for, on ``chs.notices.requests``.

One agent reads the six topics a profile is folded from (``rules.SOURCE_TOPICS``) and the
triggers' (``rules.triggers.TOPICS``: ``chs.reimbursement.events``, whose settlements the fold
passes over), all keyed and co-partitioned by ``person_id``, 6 partitions, through
``chs_events.streams``, as the other processors do. The step of an event (``folded``) is
``rules.apply`` on the person's table value, and the rules on the event's type evaluated on the
profile as it was before it (``Triggers.fired``): it yields the profile and the notices. The
effect (``streams.Routed``) writes the profiles (``Projection``: a batch's changed profiles in
ONE statement, ``repository.upsert_profiles``) and publishes the notices
(``streams.publisher``), both together, and the batch's events are acked only once both are
durable; faust flushes the table's changelog records before it commits any offset. A notice's
id is its rule's and person's (once per person), so one published again is the same notice. So after
a crash the table is recovered from the changelog (RocksDB: from the offsets it persisted),
the events not committed are delivered again, and they change nothing (the fold is
idempotent); the projection's row of a person is replaced only by a profile of the same or a
newer revision, so a partition's previous owner, finishing a batch after a rebalance, cannot put
an older profile back. Several instances each own some partitions, and so the rows of the
persons of those partitions.

A batch that fails (a step raises, or the database refuses the statement) is applied one event
at a time, each writing the person's current profile (whether that event changed it or an
earlier attempt did): bounded retries, then the event to its topic's ``.dlq``. A database that
is down is waited out, never dead-lettered.

The processor declares no topic: the inputs, the dead-letter topics and the changelog
(``STATE_TOPICS``) are in the catalog (``chs_events.admin.ensure_topics``).
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import faust
from faust.types import TableT

from chs_events import streams
from chs_events.db import CONNECTION_LOST, open_service_database
from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_events.topics import BY_NAME, PUSH_PROFILES_STATE
from chs_push import repository, rules
from chs_push.rules import triggers
from chs_push.rules.profile import Profile
from chs_push.rules.triggers import Triggers, load_triggers
from chs_push.settings import PushSettings

log = logging.getLogger(__name__)

CONSUMER = "push-processor"
PROFILES_CHANGELOG = PUSH_PROFILES_STATE
STATE_TOPICS = (BY_NAME[PROFILES_CHANGELOG],)
PARTITIONS = 6  # of every input topic, so of the table
SOURCES = (*rules.SOURCE_TOPICS, *(t for t in triggers.TOPICS if t not in rules.SOURCE_TOPICS))
TYPES = rules.TYPES | triggers.TYPES


class Profiles:
    """The profiles table: a person's profile read, an event applied to it and written back."""

    def __init__(self, table: TableT) -> None:
        self._table = table

    def get(self, person_id: str) -> Profile | None:
        return rules.load(streams.stored(self._table, person_id.encode()))

    def fold(self, source: Envelope) -> Profile | None:
        """The event applied; the person's profile as it now is (``None``: no profile)."""
        return self.folded(source)[1]

    def folded(self, source: Envelope) -> tuple[Profile | None, Profile | None]:
        """The event applied: the person's profile before it and as it now is."""
        key = source.event.person_id.encode()
        current = rules.load(streams.stored(self._table, key))
        changed = rules.apply(current, source)
        if changed is None:
            return current, current
        self._table[key] = rules.dump(changed)
        return current, changed


class Projection:
    """The processor's effect: the profiles a batch touched written to push's ``profiles`` in
    one statement (a person's newest of the batch); its pool opened (and migrated) in faust's
    loop, on the first batch."""

    def __init__(self, settings: PushSettings) -> None:
        self._settings = settings
        self._pool: asyncpg.Pool | None = None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await open_service_database(
                self._settings.database_url, self._settings.database_name, "chs_push", max_size=2
            )
        return self._pool

    async def __call__(self, caused: Sequence[tuple[Envelope, Profile]]) -> None:
        touched = newest(caused)
        if touched:
            await repository.upsert_profiles(await self.pool(), touched.values())


Output = Profile | NoticeRequested


def folded(profiles: Profiles, fired: Triggers | None = None) -> Callable[[Envelope], list[Any]]:
    """The step: an event → its person's profile as it now is, also when the event changed
    nothing (an attempt before may have changed it and not reached the projection), and the
    notices the rules ``fired`` ask for on it, judged on the profile before it. An event the
    fold does not use (a settlement) gives only the notices."""

    def step(source: Envelope) -> list[Any]:
        if source.event.ce_type not in rules.TYPES:  # the triggers' only (a settlement)
            before = profiles.get(source.event.person_id)
            return [] if fired is None else fired.fired(before, source)
        before, profile = profiles.folded(source)
        caused: list[Output] = [] if profile is None else [profile]
        if fired is not None:
            caused += fired.fired(before, source)
        return caused

    return step


def newest(caused: Sequence[tuple[Envelope, Profile]]) -> dict[str, Profile]:
    """Each person's profile as the batch left it."""
    return {profile.person_id: profile for _, profile in caused}


def _requested(source: Envelope, notice: NoticeRequested) -> None:
    log.info(
        "push rule fired",
        extra={
            "source_type": source.event.ce_type,
            "template_id": notice.template_id,
            "notice_id": notice.notice_id,
        },
    )


def create_app(settings: PushSettings) -> faust.App:
    fired = load_triggers()  # an invalid rules file stops the processor here
    app = streams.create_app(settings, CONSUMER, store=settings.store, table_standby_replicas=0)
    profiles = Profiles(
        streams.table(app, settings, "profiles", PROFILES_CHANGELOG, partitions=PARTITIONS)
    )
    streams.process_in_batches(
        app,
        settings,
        CONSUMER,
        sources=SOURCES,
        step=folded(profiles, fired),
        effect=streams.Routed(
            (Profile, Projection(settings)),
            (
                NoticeRequested,
                streams.publisher(
                    app,
                    settings,
                    NoticeRequested,
                    envelope_id=lambda notice: notice.notice_id,  # published again: the same
                    published=_requested,
                ),
            ),
        ),
        types=TYPES,
        waits_out=CONNECTION_LOST,  # push's database is down: waited out, never dead-lettered
    )
    return app
