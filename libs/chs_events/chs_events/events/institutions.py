"""The registry of designated institutions (定点医疗机构), on ``chs.registry.institutions``.

The topic is compacted and keyed by the institution's national code: every record is the
institution as it now is, so the latest one per code is enough. Every API that resolves
institutions follows it from the beginning (``chs_events.institutions.InstitutionFollower``).
"""

from typing import Literal

from pydantic import ConfigDict, Field

from chs_events.events.base import Event, register
from chs_events.topics import REGISTRY_INSTITUTIONS

INSTITUTION_CODE_PATTERN = r"^H[0-9]{11}$"


class InstitutionEvent(Event):
    """The institution as the registry now has it (the latest record of a code is it)."""

    # The record's key is the event's ``person_id`` (``Envelope.key``): here the institution's
    # code, written and read as ``institution_code``; no person is concerned.
    model_config = ConfigDict(serialize_by_alias=True)

    topic = REGISTRY_INSTITUTIONS
    producer = "enrollment"

    person_id: str = Field(
        alias="institution_code",
        pattern=INSTITUTION_CODE_PATTERN,
        description="National code of the institution (the record's key)",
    )
    institution_name: str = Field(min_length=1, max_length=100)
    institution_level: Literal[1, 2, 3] = Field(description="Hospital level (一级/二级/三级)")
    institution_region: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 region code")

    @property
    def institution_code(self) -> str:
        return self.person_id


@register
class InstitutionRegistered(InstitutionEvent):
    """The admin registered a designated institution: its code, name, level and region."""

    ce_type = "chs.registry.institution.registered.v1"


@register
class InstitutionChanged(InstitutionEvent):
    """The admin changed a registered institution's name or level: the institution as it now
    is (its region stays)."""

    ce_type = "chs.registry.institution.changed.v1"
