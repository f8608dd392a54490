"""The account-notice processor: ``chs.account.events`` → ``chs.notices.requests`` (the
account's notices) and ``chs.quality.signals`` (what does not follow from the ledger's last
balance).

One agent reads the account events (keyed by ``person_id``, the holder) and keeps one faust table,
``accounts`` (``chs_account_notices.rules.state``), keyed by ``account_id`` and written to the
partition of the event being applied (the holder's), so each account's state lives beside its
events. The step (``notices_of``) loads the account's state, applies the event by the rules
(``chs_account_notices.rules.apply``: continuity, duplicates, the low-balance alert) and stores
the state it changed; what the event caused is published by the mechanism.

The mechanism is ``chs_events.streams``, as in the progress-notice and fraud processors: batches
with manual acks; the notices and signals published (``acks=all``) and acknowledged before the
events are acked, the table's changelog records flushed before any offset is committed; a batch
that fails applied one event at a time, then dead-lettered. A notice's id is
``notice_id(source event, template, recipient)``; a signal's id, and its envelope's
(``envelope_id``), is of its kind and the posting's event id: a redelivered event causes the
same again (the rules recognize it among the account's recent postings) and changes nothing.

Coalescing (where the policy turns it on): a burst of small debits is told when its window ends
by the account's next posting, or else by a tick. A faust timer cannot write a table (a write
needs an event's partition), so the timer only publishes: every ``CHS_TICK_SECONDS`` each
instance sends ``AccountNoticesTicked`` to each partition it owns of
``chs.account-notices.ticks``, co-partitioned with ``chs.account.events`` and read by the same
agent, which applies the tick in that partition (``rules.ticked``): the partition's pending
accounts (a key of the same table, ``rules.state.pending_key``) whose window has ended are told
and closed. No tick is sent where no region coalesces.

The processor declares no topic: its inputs, outputs, dead-letter topics and the changelog
(``STATE_TOPIC``, compacted, 6 partitions like the input) are in the catalog
(``chs_events.admin.ensure_topics``).
"""

import logging
from collections.abc import Callable, Sequence

import faust
from faust.types import TableT

from chs_account_notices import rules
from chs_account_notices.settings import AccountNoticeSettings
from chs_events import streams
from chs_events.clock import now
from chs_events.envelope import Envelope
from chs_events.events.account import AccountEvent
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested
from chs_events.events.quality import DataQualitySignalRaised
from chs_events.events.ticks import AccountNoticesTicked
from chs_events.topics import ACCOUNT_NOTICES_STATE, ACCOUNT_NOTICES_TICKS, BY_NAME

log = logging.getLogger(__name__)

CONSUMER = "account-notices"
STATE_TOPIC = BY_NAME[ACCOUNT_NOTICES_STATE]
PARTITIONS = 6  # of chs.account.events, so of the table


def current_partition() -> int:
    """The partition of the event being applied (``chs_events.streams`` sets it)."""
    event = faust.current_event()
    return 0 if event is None else event.message.partition


def notices_of(
    settings: AccountNoticeSettings,
    accounts: TableT,
    *,
    partition_of: Callable[[], int] = current_partition,
) -> Callable[[Envelope], Sequence[Event]]:
    """An account event → applied to its account's state; the notices and signals it caused.
    A tick → the bursts of its partition whose window has ended, told."""
    policy = settings.policy

    def pending(partition: int) -> rules.Pending:
        return rules.load_pending(streams.stored(accounts, rules.pending_key(partition)))

    def ticked(source: Envelope, tick: AccountNoticesTicked) -> Sequence[Event]:
        waiting = pending(tick.partition)
        states = {a: rules.load(streams.stored(accounts, a.encode())) for a in waiting.accounts}
        done = rules.ticked(source, int(tick.at.timestamp()), waiting, states)
        for account_id, state in done.states.items():
            accounts[account_id.encode()] = rules.dump(state)
        if done.pending is not None:
            accounts[rules.pending_key(tick.partition)] = rules.dump_pending(done.pending)
        return done.caused

    def step(source: Envelope) -> Sequence[Event]:
        event = source.event
        if isinstance(event, AccountNoticesTicked):
            return ticked(source, event)
        assert isinstance(event, AccountEvent)
        key = event.account_id.encode()
        applied = rules.apply(source, rules.load(streams.stored(accounts, key)), policy)
        if applied.state is not None:
            accounts[key] = rules.dump(applied.state)
            partition = partition_of()
            waiting = rules.pending_after(pending(partition), event.account_id, applied.state)
            if waiting is not None:
                accounts[rules.pending_key(partition)] = rules.dump_pending(waiting)
        return applied.caused

    return step


def tick_of(partition: int, source: str) -> Envelope:
    tick = AccountNoticesTicked(person_id=f"partition-{partition}", partition=partition, at=now())
    return Envelope(tick, source=source)


def _envelope_id(output: Event) -> str | None:
    # A signal raised again is the same event; a notice is deduplicated by its notice id.
    return output.signal_id if isinstance(output, DataQualitySignalRaised) else None


def _published(source: Envelope, output: Event) -> None:
    if isinstance(output, DataQualitySignalRaised):
        log.warning(
            "continuity signal raised",
            extra={
                "signal_id": output.signal_id,
                "problem": output.problem,
                "event_id": source.id,
                "expected_balance_fen": output.expected_balance_fen,
                "found_balance_fen": output.found_balance_fen,
            },
        )
    elif isinstance(output, NoticeRequested):
        log.debug(
            "notice requested",
            extra={"event_id": source.id, "type": source.type, "notice": output.notice_id},
        )


def create_app(settings: AccountNoticeSettings) -> faust.App:
    app = streams.create_app(settings, CONSUMER, store=settings.store, table_standby_replicas=0)
    accounts = streams.table(app, settings, "accounts", STATE_TOPIC.name, partitions=PARTITIONS)
    if settings.policy.coalescing.anywhere:
        _ticking(app, settings)
    streams.process_in_batches(
        app,
        settings,
        CONSUMER,
        sources=rules.SOURCE_TOPICS,
        step=notices_of(settings, accounts),
        effect=streams.publisher(
            app,
            settings,
            (NoticeRequested, DataQualitySignalRaised),
            envelope_id=_envelope_id,
            published=_published,
        ),
        types=rules.TYPES,  # every account event: the others passed over unparsed
    )
    return app


def _ticking(app: faust.App, settings: AccountNoticeSettings) -> None:
    """Every ``tick_seconds``, a tick to each partition of the ticks topic this instance owns."""
    name = settings.topic(ACCOUNT_NOTICES_TICKS)
    ticks = streams.raw_topic(app, name)

    @app.timer(interval=settings.tick_seconds)
    async def tick() -> None:
        try:
            owned = sorted(tp.partition for tp in app.consumer.assignment() if tp.topic == name)
            for partition in owned:
                record = tick_of(partition, settings.ce_source).to_record()
                await ticks.send(
                    key=record.key,
                    value=record.value,
                    headers=list(record.headers),
                    partition=partition,
                    force=True,
                )
        except Exception as error:  # noqa: BLE001 - the next tick tries again
            log.warning("tick not sent", extra={"error": repr(error)})
