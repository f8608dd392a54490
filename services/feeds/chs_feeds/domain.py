"""The rules of a feed's row, and the feeds' domain errors; no I/O.

A row is a mapping of field names to values, from a CSV record (all text), a JSON line or a
request body: ``death_report`` and ``accident_report`` check it and turn it into what the feed
keeps. The ID number is checked (GB 11643, its check digit) and replaced at once by the person
id (``derive_person_id``: the HMAC of the number with the platform's secret) and its masked form
for the report: the raw number goes no further than this module. A refusal is an
``InvalidField`` whose reason never holds an ID number or a mobile (``masking.redact``).
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, get_args

from chs_events.errors import InvalidField, InvalidInput, NotFound
from chs_events.events.feeds import AccidentSource, DeathSource
from chs_events.identity import birth_date_from_id_number, derive_person_id, normalize_id_number
from chs_events.masking import mask_id_number, redact
from chs_events.regions import region
from chs_feeds.model import AccidentReport, DeathReport

EARLIEST = date(1900, 1, 1)
DEATH_SOURCES: tuple[str, ...] = get_args(DeathSource)
ACCIDENT_SOURCES: tuple[str, ...] = get_args(AccidentSource)
# The fields each feed needs (a CSV header names at least these columns).
DEATH_FIELDS = ("id_number", "date_of_death", "source", "region_code")
ACCIDENT_FIELDS = ("id_number", "case_id", "accident_date", "source", "liable_party", "region_code")
CASE_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/.")
_MASKED_LENGTH = 20
_STANDALONE_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9A-Za-z])"
)


class BatchNotFound(NotFound):
    pass


def masked_id_number(fields: Mapping[str, Any]) -> str | None:
    """The row's ID number as a report may show it (3702**********1234), whatever it is."""
    value = fields.get("id_number")
    if value is None or value == "":
        return None
    return mask_id_number(str(value).strip()[:_MASKED_LENGTH])


def refusal(error: InvalidField | InvalidInput) -> str:
    """A line's reason: ``field: why``, with any personal number in it masked."""
    return redact(error.detail if isinstance(error, InvalidField) else str(error))


def death_report(
    fields: Mapping[str, Any], *, today: date, secret: bytes, line: int | None = None
) -> DeathReport:
    """A death record: a valid ID number, a date of death from 1900 to today and not before the
    birth date the number holds, a known source and region."""
    person_id, masked, born = _person(fields, secret)
    died = _day(fields, "date_of_death", today, not_before=born)
    return DeathReport(
        person_id=person_id,
        id_number=masked,
        date_of_death=died,
        source=_one_of(fields, "source", DEATH_SOURCES),
        region_code=_region(fields),
        line=line,
    )


def accident_report(
    fields: Mapping[str, Any], *, today: date, secret: bytes, line: int | None = None
) -> AccidentReport:
    """A traffic-accident case: a valid ID number (the injured person), the police case id, an
    accident date from 1900 to today, a known source, the liable party (a plate or an insurer's
    policy, never a personal number) and a known region."""
    person_id, masked, born = _person(fields, secret)
    return AccidentReport(
        person_id=person_id,
        id_number=masked,
        case_id=_case_id(fields),
        accident_date=_day(fields, "accident_date", today, not_before=born),
        source=_one_of(fields, "source", ACCIDENT_SOURCES),
        liable_party=_liable_party(fields),
        region_code=_region(fields),
        line=line,
    )


def _text(fields: Mapping[str, Any], name: str, *, max_length: int) -> str:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        if value is None:
            raise InvalidField(name, "missing")
        raise InvalidField(name, "not text")
    text = str(value).strip()
    if not text:
        raise InvalidField(name, "missing")
    if len(text) > max_length:
        raise InvalidField(name, f"longer than {max_length} characters")
    return text


def _person(fields: Mapping[str, Any], secret: bytes) -> tuple[str, str, date]:
    text = _text(fields, "id_number", max_length=32)
    try:
        number = normalize_id_number(text)
    except InvalidInput as error:
        raise InvalidField("id_number", redact(error.reason)) from None
    born = birth_date_from_id_number(number)
    return derive_person_id(number, secret), mask_id_number(number), born


def _day(fields: Mapping[str, Any], name: str, today: date, *, not_before: date) -> date:
    value = fields.get(name)
    day = value if isinstance(value, date) else _parse_day(name, _text(fields, name, max_length=10))
    if day > today:
        raise InvalidField(name, f"{day.isoformat()} is in the future")
    if day < EARLIEST:
        raise InvalidField(name, f"{day.isoformat()} is before {EARLIEST.isoformat()}")
    if day < not_before:
        raise InvalidField(name, f"{day.isoformat()} is before the birth date of the ID number")
    return day


def _parse_day(name: str, text: str) -> date:
    """``2025-03-01`` or ``20250301``."""
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidField(name, "not a date (YYYY-MM-DD)")


def _one_of(fields: Mapping[str, Any], name: str, known: tuple[str, ...]) -> Any:
    value = _text(fields, name, max_length=32)
    if value not in known:
        raise InvalidField(name, f"{redact(value)!r} is not one of {', '.join(known)}")
    return value


def _region(fields: Mapping[str, Any]) -> str:
    code = _text(fields, "region_code", max_length=6 * 4)
    try:
        return region(code).code
    except InvalidInput as error:
        raise InvalidField("region_code", redact(error.reason)) from None


def _case_id(fields: Mapping[str, Any]) -> str:
    case_id = _text(fields, "case_id", max_length=64)
    if not set(case_id) <= CASE_ID_CHARACTERS:
        raise InvalidField("case_id", "only letters, digits and - _ / . are allowed")
    return case_id


def _holds_personal_number(text: str) -> bool:
    """A valid ID number or a mobile standing alone (not inside a policy number's run)."""
    for found in _STANDALONE_NUMBER.finditer(text):
        number = found.group()
        if len(number) == 11:
            return True
        try:
            normalize_id_number(number)
        except InvalidInput:
            continue
        return True
    return False


def _liable_party(fields: Mapping[str, Any]) -> str:
    party = _text(fields, "liable_party", max_length=100)
    if _holds_personal_number(party.replace(" ", "").replace("-", "")):
        raise InvalidField(
            "liable_party", "holds an ID number or a mobile: give the plate or the policy"
        )
    return party
