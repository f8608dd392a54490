"""Events of the feeds service (external records in), on ``chs.feeds.deaths`` and
``chs.feeds.accidents``, keyed by ``person_id`` (the HMAC of the ID number, computed at ingest:
the raw ID number never leaves the feeds service).

A death (生存认证) reported by civil affairs (民政), the police (公安) or health (卫健) is published
once per person and date of death, whichever source reports it first and however often it is
uploaded; a later record with another date is a correction of its own. A traffic-accident case
(公安交警, or the liable party's insurer) is published once per case.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.fields import Region
from chs_events.topics import ACCIDENT_FEED, DEATH_FEED

DeathSource = Literal["civil_affairs", "police", "health"]
AccidentSource = Literal["traffic_police", "insurer"]
RecordId = Annotated[str, Field(min_length=1, max_length=64)]


class DeathEvent(Event):
    topic = DEATH_FEED
    producer = "feeds"


@register
class DeathRecorded(DeathEvent):
    """A person's death, first reported by ``source`` (``record_id``: deterministic, of the
    person and the date of death)."""

    ce_type = "chs.feeds.death.recorded.v1"
    record_id: RecordId
    date_of_death: date
    source: DeathSource
    region_code: Region = Field(description="Where the death was registered")


@register
class DeathCorrected(DeathEvent):
    """A later record gives another date of death for a person already recorded dead: the
    correction replaces ``previous_date_of_death``."""

    ce_type = "chs.feeds.death.corrected.v1"
    record_id: RecordId
    previous_record_id: RecordId
    previous_date_of_death: date
    date_of_death: date
    source: DeathSource
    region_code: Region


@register
class AccidentCaseRecorded(Event):
    """A traffic-accident case in which the person was injured and another party is liable
    (医保警): the fund pays first and recovers from the liable party (社会保险法 art. 30)."""

    topic = ACCIDENT_FEED
    producer = "feeds"
    ce_type = "chs.feeds.accident.recorded.v1"
    case_id: str = Field(min_length=1, max_length=64, description="The police case number")
    accident_date: date
    source: AccidentSource
    liable_party: str = Field(
        min_length=1,
        max_length=100,
        description="Who is liable: a vehicle plate or an insurer and policy number, not a name",
    )
    region_code: Region = Field(description="Where the accident happened")
