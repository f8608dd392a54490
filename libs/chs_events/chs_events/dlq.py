"""The dead-letter tool: ``python -m chs_events.dlq list | show | redrive``.

Every topic ``T`` of the catalog has ``T.dlq`` (``chs_events.topics.dlq_of``), where a consumer
or the processor puts a record it could not process, unchanged, with the ``dlq_*`` headers of
``chs_events.deadletter`` (why, which consumer, where it came from, when). This tool reads them
without a consumer group (every partition assigned, from the beginning to the end offsets found
at start: no offsets are committed) and selects by source topic (``--topic``, the catalog's
name), consumer (``--consumer``), failure time (``--since``, ``--until``: ISO 8601, UTC when no
offset is given) and event id (``--event-id``).

- ``list``: one line per dead letter: failed at, consumer, source topic:partition:offset, event
  type, event id, its own DLQ partition:offset, whether it was redriven, and the reason. Reasons
  go through ``chs_events.masking.redact`` (and the input values pydantic echoes are left out).
- ``show REF``: one dead letter whole (headers and the event, names, mobiles, ID numbers and
  one-time codes masked as in the logs); ``REF`` is ``<dlq topic>:<partition>:<offset>``,
  ``<partition>:<offset>`` with one ``--topic``, or an event id.
- ``redrive``: republishes the selected dead letters (``--all`` when no filter is given) to the
  topic and partition they came from, unchanged (the same key, value, CloudEvents headers and so
  the same event id; the ``dlq_*`` headers dropped, ``chs_redriven_from`` added).

**Applied once, by the consumer that failed.** A consumer claims an event in its inbox in the
same transaction as the effect; a dead-lettered event's transaction was rolled back, so its
consumer has no claim and applies the republished record, while every other group of the
topic claimed it when it applied it the first time and skips it as a duplicate. The faust
processor (no inbox) makes the same notice ids again, which notification queues once.
**Idempotent.** After the broker has the republished record, a marker record goes to the same
DLQ partition (no value; ``dlq_redrive_of`` = the dead letter's ``partition:offset``,
``dlq_redriven_to``, ``dlq_redriven_at``): a dead letter with a marker is not redriven again.
Should the tool stop between the two, the next redrive republishes the event once more and the
inboxes skip it. One event dead-lettered by several consumers is republished once. If the cause
has not gone, the consumer dead-letters the republished record again: a new dead letter, to be
redriven once it has.
"""

import argparse
import asyncio
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from chs_events.kafka import LogReader, create_producer
from chs_events.logging import SENSITIVE_KEYS
from chs_events.masking import redact
from chs_events.settings import PlatformSettings
from chs_events.topics import CATALOG, DLQ_SUFFIX, dlq_of

REDRIVE_OF = "dlq_redrive_of"
REDRIVEN_TO = "dlq_redriven_to"
REDRIVEN_AT = "dlq_redriven_at"
REDRIVEN_FROM = "chs_redriven_from"  # on the republished record: the dead letter it came from

# A one-time code is as good as a password while it is valid: masked whole, like a mobile.
_SECRET_KEYS = {"code"}
# pydantic's validation messages repeat the value refused ("input_value='张三', input_type=…"):
# a name cannot be recognised in free text, so the value is left out.
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]|$)", re.MULTILINE)


def masked_reason(reason: str) -> str:
    return redact(_INPUT_VALUE.sub("input_value=***", reason))


def masked_value(value: Any, key: str | None = None) -> Any:
    """An event's data as the logs would show it: values under ``SENSITIVE_KEYS`` (and one-time
    codes) masked whole, ID numbers and mobiles masked in any other text."""
    if key is not None and (key in SENSITIVE_KEYS or key in _SECRET_KEYS):
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, dict):
            return {k: masked_value(v, key) for k, v in value.items()}
        if isinstance(value, list):
            return [masked_value(v, key) for v in value]
        mask = SENSITIVE_KEYS.get(key)
        return mask(str(value)) if mask else "*" * len(str(value))
    if isinstance(value, dict):
        return {k: masked_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_value(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


@dataclass(frozen=True)
class DeadLetter:
    """One record of a ``.dlq`` topic (a dead letter, or the marker of one's redrive)."""

    topic: str  # as on the broker (with the topic prefix)
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int = 0

    def header(self, name: str) -> str | None:
        """The last header of that name (a record dead-lettered again carries the new ones
        after the old)."""
        for header_name, value in reversed(self.headers):
            if header_name == name:
                return value.decode(errors="replace")
        return None

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def redrive_of(self) -> tuple[int, int] | None:
        """The dead letter (partition, offset) this marker says was redriven; None for a dead
        letter."""
        marked = self.header(REDRIVE_OF)
        if marked is None:
            return None
        partition, _, offset = marked.partition(":")
        return int(partition), int(offset)

    @property
    def event_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def type(self) -> str | None:
        return self.header("ce_type")

    @property
    def consumer(self) -> str:
        return self.header("dlq_consumer") or "?"

    @property
    def reason(self) -> str:
        return masked_reason(self.header("dlq_reason") or "")

    @property
    def failed_at(self) -> datetime | None:
        text = self.header("dlq_failed_at")
        try:
            return datetime.fromisoformat(text) if text else None
        except ValueError:
            return None

    @property
    def source_topic(self) -> str:
        """The topic it came from, as on the broker."""
        return self.header("dlq_source_topic") or self.topic.removesuffix(DLQ_SUFFIX)

    @property
    def source_partition(self) -> int | None:
        text = self.header("dlq_source_partition")
        return int(text) if text and text.isdigit() else None

    @property
    def source(self) -> str:
        offset = self.header("dlq_source_offset") or "?"
        partition = self.source_partition
        return f"{self.source_topic}:{'?' if partition is None else partition}:{offset}"

    def republished_headers(self) -> list[tuple[str, bytes]]:
        """The record's own headers, without the dead letter's, and where it was redriven from."""
        return [
            *(
                (name, value)
                for name, value in self.headers
                if not name.startswith("dlq_") and name != REDRIVEN_FROM
            ),
            (REDRIVEN_FROM, self.position.encode()),
        ]


@dataclass(frozen=True)
class Selection:
    """Which dead letters: by source topic (the catalog's names), consumer, failure time, event
    id; empty means any."""

    topics: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    event_ids: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.topics or self.consumers or self.since or self.until or self.event_ids)

    def dlq_topics(self, settings: PlatformSettings) -> list[str]:
        names = self.topics or tuple(spec.name for spec in CATALOG)
        return [settings.topic(dlq_of(name.removesuffix(DLQ_SUFFIX))) for name in names]

    def matches(self, letter: DeadLetter) -> bool:
        if self.consumers and letter.consumer not in self.consumers:
            return False
        if self.event_ids and letter.event_id not in self.event_ids:
            return False
        failed_at = letter.failed_at
        if self.since and (failed_at is None or failed_at < self.since):
            return False
        return not (self.until and (failed_at is None or failed_at >= self.until))


@dataclass
class DeadLetters:
    """What the DLQ topics held when read: the dead letters, and which of them were redriven."""

    letters: list[DeadLetter] = field(default_factory=list)
    redriven: dict[tuple[str, int, int], DeadLetter] = field(default_factory=dict)

    def add(self, letter: DeadLetter) -> None:
        marked = letter.redrive_of
        if marked is None:
            self.letters.append(letter)
        else:
            self.redriven[(letter.topic, *marked)] = letter

    def was_redriven(self, letter: DeadLetter) -> bool:
        return (letter.topic, letter.partition, letter.offset) in self.redriven

    def selected(self, selection: Selection, *, pending_only: bool = False) -> list[DeadLetter]:
        return [
            letter
            for letter in self.letters
            if selection.matches(letter) and not (pending_only and self.was_redriven(letter))
        ]


async def read_dead_letters(
    settings: PlatformSettings, topics: Sequence[str], *, timeout: float = 60.0
) -> DeadLetters:
    """Every record of these DLQ topics (names as on the broker; a missing one is skipped) up to
    the end offsets found at start, without a consumer group."""
    reader = LogReader(settings, "dlq-tool", topics)
    await reader.start()
    found = DeadLetters()
    try:
        async with asyncio.timeout(timeout):
            async for records in reader.read_to(await reader.end_offsets()):
                for record in records:
                    found.add(
                        DeadLetter(
                            record.topic,
                            record.partition,
                            record.offset,
                            record.key,
                            record.value,
                            tuple(record.headers or ()),
                            record.timestamp,
                        )
                    )
    finally:
        await reader.stop()
    return found


@dataclass(frozen=True)
class Redriven:
    letters: list[DeadLetter]  # the dead letters redriven (several may share one republication)
    republished: dict[str, str]  # the republished record's position, by the dead letter's
    already: int  # selected dead letters passed over: redriven before


async def redrive(settings: PlatformSettings, selection: Selection) -> Redriven:
    """Republish the selected dead letters not redriven before (once per event and topic),
    each followed by its marker."""
    found = await read_dead_letters(settings, selection.dlq_topics(settings))
    chosen = found.selected(selection)
    pending = [letter for letter in chosen if not found.was_redriven(letter)]
    producer = create_producer(settings, "dlq-redrive")
    await producer.start()
    republished: dict[str, str] = {}
    try:
        by_event: dict[tuple[str, str], str] = {}
        for letter in pending:
            event = (letter.source_topic, letter.event_id or letter.position)
            to = by_event.get(event)
            if to is None:
                sent = await producer.send_and_wait(
                    letter.source_topic,
                    value=letter.value,
                    key=letter.key,
                    headers=letter.republished_headers(),
                    partition=letter.source_partition,
                )
                to = by_event[event] = f"{letter.source_topic}:{sent.partition}:{sent.offset}"
            await producer.send_and_wait(
                letter.topic,
                value=None,
                key=letter.key,
                partition=letter.partition,
                headers=[
                    (REDRIVE_OF, f"{letter.partition}:{letter.offset}".encode()),
                    (REDRIVEN_TO, to.encode()),
                    (REDRIVEN_AT, datetime.now(UTC).isoformat().encode()),
                ],
            )
            republished[letter.position] = to
    finally:
        await producer.stop()
    return Redriven(pending, republished, len(chosen) - len(pending))


# --- the command line ------------------------------------------------------------------------


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(letter: DeadLetter) -> str:
    failed_at = letter.failed_at
    return failed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if failed_at else "?"


def table(found: DeadLetters, letters: Iterable[DeadLetter]) -> list[str]:
    """``list``'s lines: a header, then one per dead letter."""
    rows = [
        (
            _when(letter),
            letter.consumer,
            letter.source,
            letter.type or "?",
            letter.event_id or "?",
            f"{letter.partition}:{letter.offset}",
            "redriven" if found.was_redriven(letter) else "-",
            letter.reason.replace("\n", " ")[:200],
        )
        for letter in letters
    ]
    head = ("FAILED AT", "CONSUMER", "SOURCE", "TYPE", "EVENT ID", "DLQ", "REDRIVEN", "REASON")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in [head, *rows]
    ]


def shown(found: DeadLetters, letter: DeadLetter) -> dict[str, Any]:
    """``show``'s document of one dead letter, masked."""
    value: Any
    if letter.value is None:
        value = None
    else:
        try:
            value = masked_value(orjson.loads(letter.value))
        except orjson.JSONDecodeError:
            value = redact(letter.value.decode(errors="replace"))
    headers = {
        name: masked_reason(raw.decode(errors="replace"))
        if name == "dlq_reason"
        else redact(raw.decode(errors="replace"))
        for name, raw in letter.headers
    }
    marker = found.redriven.get((letter.topic, letter.partition, letter.offset))
    return {
        "dlq": letter.position,
        "key": None if letter.key is None else letter.key.decode(errors="replace"),
        "headers": headers,
        "value": value,
        "redriven": None
        if marker is None
        else {"to": marker.header(REDRIVEN_TO), "at": marker.header(REDRIVEN_AT)},
    }


def _find(
    found: DeadLetters, reference: str, settings: PlatformSettings, topics: Sequence[str]
) -> list[DeadLetter]:
    parts = reference.rsplit(":", 2)
    if len(parts) == 3 or (len(parts) == 2 and len(topics) == 1):
        topic = parts[0] if len(parts) == 3 else settings.topic(dlq_of(topics[0]))
        partition, offset = int(parts[-2]), int(parts[-1])
        return [
            letter
            for letter in found.letters
            if (letter.topic, letter.partition, letter.offset) == (topic, partition, offset)
        ]
    return [letter for letter in found.letters if letter.event_id == reference]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chs_events.dlq", description="List, show and redrive dead letters."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (
        ("list", "one line per dead letter"),
        ("show", "one dead letter whole"),
        ("redrive", "republish dead letters to where they came from"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("--topic", action="append", default=[], help="source topic")
        command.add_argument("--consumer", action="append", default=[])
        command.add_argument("--since", type=_time, help="failed at or after (ISO 8601)")
        command.add_argument("--until", type=_time, help="failed before (ISO 8601)")
        command.add_argument("--event-id", action="append", default=[])
        if name == "list":
            command.add_argument(
                "--pending", action="store_true", help="only those not redriven yet"
            )
        if name == "show":
            command.add_argument("reference", help="<dlq topic>:<partition>:<offset> or event id")
        if name == "redrive":
            command.add_argument("--all", action="store_true", help="every dead letter")
    return parser


async def run(arguments: Sequence[str], settings: PlatformSettings) -> int:
    """The command line's work; returns the exit status."""
    options = _parser().parse_args(arguments)
    selection = Selection(
        tuple(t.removesuffix(DLQ_SUFFIX) for t in options.topic),
        tuple(options.consumer),
        options.since,
        options.until,
        tuple(options.event_id),
    )
    if options.command == "redrive":
        if selection.everything and not options.all:
            print("redrive: give a filter (--topic, --consumer, ...) or --all", file=sys.stderr)
            return 2
        done = await redrive(settings, selection)
        for letter in done.letters:
            print(f"{letter.position} → {done.republished[letter.position]}")
        print(
            f"redriven {len(done.letters)} dead letters as {len(set(done.republished.values()))} "
            f"records; {done.already} redriven before"
        )
        return 0
    topics = selection.dlq_topics(settings)
    if options.command == "show" and len(parts := options.reference.rsplit(":", 2)) == 3:
        topics = [parts[0]]
    found = await read_dead_letters(settings, topics)
    if options.command == "list":
        for line in table(found, found.selected(selection, pending_only=options.pending)):
            print(line)
        return 0
    letters = [
        letter
        for letter in _find(found, options.reference, settings, selection.topics)
        if selection.matches(letter)
    ]
    if not letters:
        print(f"show: no dead letter {options.reference}", file=sys.stderr)
        return 1
    for letter in letters:
        sys.stdout.write(
            orjson.dumps(shown(found, letter), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    return 0


def main(arguments: Sequence[str] | None = None) -> None:
    settings = PlatformSettings()
    sys.exit(asyncio.run(run(sys.argv[1:] if arguments is None else arguments, settings)))


if __name__ == "__main__":
    main()
