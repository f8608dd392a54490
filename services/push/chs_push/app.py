"""The push processor: the events a profile is folded from → each person's profile in a faust
table (``profiles``, its changelog ``chs.push.state.profiles``) and its projection in push's
PostgreSQL (``profiles``), which preview counts and fan-out scans.

One agent reads the six input topics (``rules.SOURCE_TOPICS``, all keyed and co-partitioned by
``person_id``, 6 partitions) in batches with manual acks, as ``chs_events.streams`` does for
fraud; the step of an event is ``rules.apply`` on the person's table value. What a processor of
the platform publishes, this one writes: a batch's changed profiles go to the projection in ONE
statement (``repository.upsert_profiles``), and the batch's events are acked only once it has
committed; faust flushes the table's changelog records before it commits any offset. So after
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
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import cast

import asyncpg
import faust
from faust.types import EventT, StreamT, TableT, TopicT

from chs_events import streams
from chs_events.db import CONNECTION_LOST, open_service_database
from chs_events.envelope import Envelope
from chs_events.processing import BatchFailed, Outcome, Record, RecordProcessor
from chs_events.retry import Backoff
from chs_events.topics import BY_NAME, PUSH_PROFILES_STATE, dlq_of
from chs_push import repository, rules
from chs_push.rules.profile import Profile
from chs_push.settings import PushSettings

log = logging.getLogger(__name__)

CONSUMER = "push-processor"
PROFILES_CHANGELOG = PUSH_PROFILES_STATE
STATE_TOPICS = (BY_NAME[PROFILES_CHANGELOG],)
PARTITIONS = 6  # of every input topic, so of the table


class Profiles:
    """The profiles table: a person's profile read, an event applied to it and written back."""

    def __init__(self, table: TableT) -> None:
        self._table = table

    def get(self, person_id: str) -> Profile | None:
        return rules.load(self._table.get(person_id.encode()))

    def fold(self, source: Envelope) -> Profile | None:
        """The event applied; the person's profile as it now is (``None``: no profile)."""
        key = source.event.person_id.encode()
        current = rules.load(self._table.get(key))
        changed = rules.apply(current, source)
        if changed is None:
            return current
        self._table[key] = rules.dump(changed)
        return changed


class Projector:
    """Applies a batch of events to the profiles and writes the profiles they touched to the
    projection; ``process`` returns once that (or an event's dead letter) is durable, so the
    caller may ack the events."""

    def __init__(
        self,
        settings: PushSettings,
        profiles: Profiles,
        dead_letters: Mapping[str, TopicT],
    ) -> None:
        self._settings = settings
        self._profiles = profiles
        self._dead_letters = dead_letters
        self._pool: asyncpg.Pool | None = None
        self._events: dict[str, EventT] = {}
        self._engine = RecordProcessor(
            CONSUMER,
            self._apply_one,
            self._publish_dead_letter,
            apply_all=self._apply_all,
            topic_prefix=settings.topic_prefix,
            backoff=Backoff(
                settings.max_attempts,
                settings.retry_base_delay_seconds,
                settings.retry_max_delay_seconds,
            ),
            waits_out=CONNECTION_LOST,
            types=rules.TYPES,
        )

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:  # opened (and migrated) in faust's loop, on the first batch
            self._pool = await open_service_database(
                self._settings.database_url, self._settings.database_name, "chs_push", max_size=2
            )
        return self._pool

    async def process(self, events: Sequence[EventT]) -> None:
        self._events = {ce_id: e for e in events if (ce_id := streams.event_id(e)) is not None}
        try:
            await self._engine.process_all([cast(Record, event.message) for event in events])
        finally:
            self._events = {}

    def _folded(self, source: Envelope) -> Profile | None:
        # A table write goes to the store and changelog partition of the event applied: faust
        # takes it from the current event, which a batch does not set per event.
        event = self._events.get(source.id)
        with nullcontext() if event is None else streams._in_partition_of(event):
            return self._profiles.fold(source)

    async def _project(self, profiles: Mapping[str, Profile]) -> None:
        if profiles:
            await repository.upsert_profiles(await self.pool(), profiles.values())

    async def _apply_one(self, source: Envelope) -> Outcome:
        profile = self._folded(source)
        await self._project({} if profile is None else {profile.person_id: profile})
        return Outcome.APPLIED

    async def _apply_all(self, sources: Sequence[Envelope]) -> list[Outcome]:
        touched: dict[str, Profile] = {}  # every step first: nothing written if one fails
        for index, source in enumerate(sources):
            try:
                profile = self._folded(source)
            except Exception as error:
                raise BatchFailed(index, error) from error
            if profile is not None:
                touched[profile.person_id] = profile
        await self._project(touched)
        return [Outcome.APPLIED] * len(sources)

    async def _publish_dead_letter(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        sent = await self._dead_letters[topic].send(
            key=key, value=value, headers=list(headers), force=True
        )
        await sent


def create_app(settings: PushSettings) -> faust.App:
    app = streams.create_app(settings, CONSUMER, store=settings.store, table_standby_replicas=0)
    table = app.Table(
        "profiles",
        partitions=PARTITIONS,
        key_type=bytes,
        value_type=bytes,  # raw, the app's serializers
        changelog_topic=streams.raw_topic(
            app, settings.topic(PROFILES_CHANGELOG), partitions=PARTITIONS
        ),
    )
    projector = Projector(
        settings,
        Profiles(table),
        {
            settings.topic(dlq_of(t)): streams.raw_topic(app, settings.topic(dlq_of(t)))
            for t in rules.SOURCE_TOPICS
        },
    )
    source = streams.raw_topic(app, *(settings.topic(t) for t in rules.SOURCE_TOPICS))

    # One batch at a time per worker, each partition's events in order.
    @app.agent(source, name=CONSUMER, concurrency=1)
    async def in_batches(stream: StreamT) -> None:
        manual = cast(faust.Stream, stream)  # StreamT does not declare noack_take
        batches = manual.noack_take(settings.batch_size, within=settings.batch_wait_seconds)
        async for events in batches:
            await projector.process(events)
            for event in events:
                await manual.ack(event)

    return app
