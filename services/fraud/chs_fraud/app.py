"""The fraud processor: the feeds and the benefit events → ``chs.fraud.signals``.

One agent reads the five input topics (all keyed and co-partitioned by ``person_id``) and keeps
both sides of every match in two faust tables of the person (``chs_fraud.rules.state``): faust
has no join, so each arrival looks at what the other side left (``chs_fraud.rules``).

The mechanism is ``chs_events.streams``, as in the progress-notice processor: batches with
manual acks; a batch's signals published (``acks=all``) and acknowledged before its events are
acked, the tables' changelog records flushed before any offset is committed; a batch that fails
applied one event at a time, then dead-lettered. This module is the step: an event applied to
its person's tables by the rules, the signals it raised. A signal's id (and its envelope's,
``envelope_id``) is deterministic, so a redelivered event publishes the same signal again and
case work takes it once; the rules are idempotent, so applying an event again changes nothing.

The processor declares no topic: the inputs, ``chs.fraud.signals``, the dead-letter topics and
the two changelogs (``STATE_TOPICS``, compacted, 6 partitions like the inputs) are in the
catalog (``chs_events.admin.ensure_topics``).
"""

import logging
from collections.abc import Callable, Sequence

import faust
from faust.types import TableT

from chs_events import streams
from chs_events.envelope import Envelope
from chs_events.events.fraud import FraudSignalRaised
from chs_events.topics import BY_NAME, FRAUD_BENEFITS_STATE, FRAUD_RECORDS_STATE
from chs_fraud import rules
from chs_fraud.rules.state import dump_benefits, dump_records, load_benefits, load_records
from chs_fraud.settings import FraudSettings

log = logging.getLogger(__name__)

CONSUMER = "fraud-processor"
RECORDS_CHANGELOG, BENEFITS_CHANGELOG = FRAUD_RECORDS_STATE, FRAUD_BENEFITS_STATE
STATE_TOPICS = tuple(BY_NAME[name] for name in (RECORDS_CHANGELOG, BENEFITS_CHANGELOG))
PARTITIONS = 6  # of every input topic, so of the tables


def signals_of(
    settings: FraudSettings, *, records: TableT, benefits: TableT
) -> Callable[[Envelope], Sequence[FraudSignalRaised]]:
    """An event → applied to its person's tables; the signals it raised."""
    limits = settings.rules

    def step(source: Envelope) -> Sequence[FraudSignalRaised]:
        key = source.event.person_id.encode()
        applied = rules.apply(
            source.event,
            source.id,
            load_records(streams.stored(records, key)),
            load_benefits(streams.stored(benefits, key)),
            limits,
        )
        if applied.records is not None:
            records[key] = dump_records(applied.records)
        if applied.benefits is not None:
            benefits[key] = dump_benefits(applied.benefits)
        return applied.signals

    return step


def _raised(source: Envelope, signal: FraudSignalRaised) -> None:
    log.info(
        "signal raised",
        extra={"signal_id": signal.signal_id, "kind": signal.kind, "event_id": source.id},
    )


def create_app(settings: FraudSettings) -> faust.App:
    app = streams.create_app(settings, CONSUMER, store=settings.store, table_standby_replicas=0)
    tables = {
        name: streams.table(app, settings, name, changelog, partitions=PARTITIONS)
        for name, changelog in (("records", RECORDS_CHANGELOG), ("benefits", BENEFITS_CHANGELOG))
    }
    streams.process_in_batches(
        app,
        settings,
        CONSUMER,
        sources=rules.SOURCE_TOPICS,
        step=signals_of(settings, records=tables["records"], benefits=tables["benefits"]),
        effect=streams.publisher(
            app,
            settings,
            FraudSignalRaised,
            envelope_id=lambda signal: signal.signal_id,  # raised again, it is the same event
            published=_raised,
        ),
        types=rules.TYPES,
    )
    return app
