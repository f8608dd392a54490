"""The registry of designated medical institutions (定点医疗机构): code, name, level, region.

A request names an institution by its national code only; its name (the one an SMS tells), its
level (一级/二级/三级) and its region come from here, never from the caller. An unknown code is
an ``UnknownInstitution`` (422).

The registry is seeded from ``data/institutions.json``; the institutions the admin registers
(enrollment's ``POST /institutions``, changed at ``PUT /institutions/{code}``) travel on the
compacted topic ``chs.registry.institutions`` (``InstitutionRegistered``,
``InstitutionChanged``), and an ``InstitutionFollower`` (one asyncio task of the API that
resolves institutions) puts each one in this process's registry. ``institution(code)`` stays a
synchronous dictionary lookup.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from pydantic import Field

from chs_events.envelope import Envelope, InvalidEnvelope
from chs_events.errors import InvalidInput
from chs_events.events.institutions import InstitutionEvent
from chs_events.fields import checked
from chs_events.settings import PlatformSettings
from chs_events.topics import REGISTRY_INSTITUTIONS

log = logging.getLogger(__name__)

InstitutionLevel = Literal[1, 2, 3]


@dataclass(frozen=True)
class Institution:
    code: str
    name: str
    level: InstitutionLevel
    region: str


class UnknownInstitution(InvalidInput):
    """Not a designated institution of the registry."""

    def __init__(self, reason: str, field: str = "institution_code") -> None:
        super().__init__(reason, field)


def _load() -> dict[str, Institution]:
    data = json.loads(files("chs_events").joinpath("data/institutions.json").read_text("utf-8"))
    return {
        item["code"]: Institution(item["code"], item["name"], item["level"], item["region"])
        for item in data["institutions"]
    }


_SEEDED = _load()
# The seeded institutions and those learned from the topic (a later record of a code replaces
# the earlier one, as the compacted topic does).
_INSTITUTIONS = dict(_SEEDED)


def institution(code: str) -> Institution:
    """The designated institution with this code; raises UnknownInstitution."""
    try:
        return _INSTITUTIONS[code]
    except KeyError:
        raise UnknownInstitution(f"{code!r} is not a designated institution") from None


def designated(
    code: str,
    *,
    name: str | None = None,
    level: int | None = None,
    region: str | None = None,
) -> Institution:
    """The institution with this code, checked against what a request still states of it (a
    name, level or region that differs from the registry's is refused: ``InvalidInput``)."""
    found = institution(code)
    for field, stated, registered in (
        ("institution_name", name, found.name),
        ("institution_level", level, found.level),
        ("institution_region", region, found.region),
    ):
        if stated is not None and stated != registered:
            raise InvalidInput(f"the registry has {registered!r} for institution {code}", field)
    return found


InstitutionCode = Annotated[
    str,
    checked(lambda code: institution(code).code),
    Field(
        description="National code of a designated institution (its name, level and region "
        "come from the registry)",
        examples=["H37020200017"],
    ),
]
"""A request field: the code of a designated institution (422 for an unknown one)."""


def all_institutions() -> tuple[Institution, ...]:
    return tuple(_INSTITUTIONS.values())


def seeded(code: str) -> Institution | None:
    """The institution of the data file with this code (not one learned from the topic)."""
    return _SEEDED.get(code)


def seeded_institutions() -> tuple[Institution, ...]:
    return tuple(_SEEDED.values())


def learn(found: Institution) -> None:
    """Add (or replace) a registered institution in this process's registry."""
    _INSTITUTIONS[found.code] = found


def of_event(event: InstitutionEvent) -> Institution:
    return Institution(
        event.institution_code,
        event.institution_name,
        event.institution_level,
        event.institution_region,
    )


def learn_record(record: ConsumerRecord) -> Institution | None:
    """The institution a record of the topic registers or changes, put in the registry; None
    (logged) for a record that is not a valid ``InstitutionRegistered`` or
    ``InstitutionChanged``."""
    try:
        envelope = Envelope.from_record(record.key, record.value, record.headers)
    except InvalidEnvelope as error:
        log.warning(
            "skipped an invalid record of the institutions topic",
            extra={"reason": str(error), "partition": record.partition, "offset": record.offset},
        )
        return None
    if not isinstance(envelope.event, InstitutionEvent):
        log.warning("skipped an event of another type", extra={"ce_type": envelope.type})
        return None
    found = of_event(envelope.event)
    learn(found)
    return found


class InstitutionFollower:
    """Keeps this process's registry up to date from ``chs.registry.institutions``: a consumer
    without a group, assigned every partition of the compacted topic, reads it from the
    beginning and then follows it. ``ready()`` once it has read up to the end offsets the
    topic had when it was assigned (the readiness check ``institutions`` of the API); until
    then, institutions registered before the start may still be unknown.

    A missing topic, an unreachable broker or a failing read is logged and retried from the
    beginning after ``retry_seconds`` (the registry only grows meanwhile)."""

    name = "institutions"

    def __init__(self, settings: PlatformSettings, *, retry_seconds: float = 2.0) -> None:
        self._bootstrap = settings.kafka_bootstrap
        self._client_id = f"{settings.service_name}-institutions"
        self.topic = settings.topic(REGISTRY_INSTITUTIONS)
        self._retry_seconds = retry_seconds
        self._caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._told_missing = False
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"follow {self.topic}")

    async def stop(self) -> None:
        """Cancel the task, again if need be: aiokafka's ``close`` swallows a cancellation that
        arrives while it waits, and the loop ends only at its next turn then."""
        self._stopping = True
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.warning("the institutions follower had failed", exc_info=task.exception())

    async def ready(self) -> bool:
        return self._caught_up.is_set()

    async def wait_caught_up(self, timeout: float) -> None:
        await asyncio.wait_for(self._caught_up.wait(), timeout)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._follow()
            except (KafkaError, OSError) as error:
                log.warning(
                    "following the institutions topic failed; retrying",
                    extra={"topic": self.topic, "error": repr(error)},
                )
            except Exception:
                log.exception("following the institutions topic failed; retrying")
            await asyncio.sleep(self._retry_seconds)

    async def _follow(self) -> None:
        partitions = await self._partitions()
        if not partitions:
            if not self._told_missing:
                log.warning("the institutions topic does not exist", extra={"topic": self.topic})
                self._told_missing = True
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while True:
                if not self._caught_up.is_set() and await self._reached(consumer, ends):
                    self._caught_up.set()
                    log.info(
                        "institutions topic read",
                        extra={"topic": self.topic, "institutions": len(_INSTITUTIONS)},
                    )
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        learn_record(record)
        finally:
            await consumer.stop()

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the topic (none when it does not exist)."""
        client = AIOKafkaClient(bootstrap_servers=self._bootstrap, client_id=self._client_id)
        try:
            await client.bootstrap()
            cluster = await client.fetch_all_metadata()
        finally:
            await client.close()
        numbers = cluster.partitions_for_topic(self.topic) or set()
        return [TopicPartition(self.topic, number) for number in sorted(numbers)]

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
        for partition, end in ends.items():
            if await consumer.position(partition) < end:
                return False
        return True
