"""Commands of the enrollment service: imperative requests that a handler carries out
(``chs_events.commands.Command``; the correlation id travels in the unit of work)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from chs_events.commands import Command
from chs_events.institutions import InstitutionLevel

Sex = Literal["M", "F"]


class RegisterPerson(Command):
    id_number: str
    name: str
    mobile: str
    region_code: str


class RegisterEmployer(Command):
    name: str
    region_code: str
    api_key_hash: str


class RegisterInstitution(Command):
    """Register a designated institution (定点医疗机构) under its national code."""

    code: str
    name: str
    level: InstitutionLevel
    region: str


class ChangeInstitution(Command):
    """Change a registered institution's name or level (its code and region stay)."""

    code: str
    name: str
    level: InstitutionLevel


class EnrollResident(Command):
    person_id: str
    pooling_region: str
    start_date: date


class EnrollEmployee(Command):
    person_id: str
    employer_id: str
    contribution_base_fen: int
    start_date: date
    pooling_region: str | None = None  # the employer's region when not given


@dataclass(frozen=True)
class NewStaff:
    id_number: str
    name: str
    mobile: str
    region_code: str
    contribution_base_fen: int
    start_date: date


class AddStaff(Command):
    employer_id: str
    items: tuple[NewStaff, ...]


@dataclass(frozen=True)
class Leaver:
    person_id: str
    end_date: date


class RemoveStaff(Command):
    employer_id: str
    items: tuple[Leaver, ...]


class EnrollNewborn(Command):
    birth_certificate_no: str
    name: str
    sex: Sex
    birth_date: date
    guardian_person_id: str
    pooling_region: str


class RecordContribution(Command):
    payment_id: str
    enrollment_id: str
    period: str
    amount_fen: int
    employer_part_fen: int
    personal_part_fen: int
    paid_at: datetime = field(compare=False)


class ChangeContact(Command):
    """Request a new mobile: it takes effect when its one-time code is confirmed."""

    person_id: str
    mobile: str


class ConfirmContact(Command):
    """Confirm a requested mobile with the one-time code sent to it."""

    person_id: str
    code: str


class MovePoolingRegion(Command):
    """A completed relationship transfer moves an employee enrollment to ``to_region``;
    ``event_id`` is the transfer event's."""

    transfer_id: str
    person_id: str
    enrollment_id: str
    from_region: str
    to_region: str
    changed_on: date
    event_id: str


class RecordDeath(Command):
    """A verified death (生存认证, ``chs.feeds.deaths``): the person's date of death, first
    recorded or (``correction``) corrected; ``event_id`` is the feed event's."""

    person_id: str
    date_of_death: date
    record_id: str
    source: str
    region_code: str
    event_id: str
    correction: bool = False
