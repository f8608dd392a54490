"""The registry of designated medical institutions (定点医疗机构): code, name, level, region.

A request names an institution by its national code only; its name (the one an SMS tells), its
level (一级/二级/三级) and its region come from here (``data/institutions.json``), never from the
caller. An unknown code is an ``UnknownInstitution`` (422).
"""

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Literal

from pydantic import Field

from chs_events.errors import InvalidInput
from chs_events.fields import checked

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


_INSTITUTIONS = _load()


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
