"""The registry of designated institutions (定点医疗机构): the admin registers them here.

The institutions of ``chs_events/data/institutions.json`` are registered already (every process
is seeded with them); the others are rows of ``institutions``, published as
``InstitutionRegistered`` (and, when the admin changes a name or level, ``InstitutionChanged``)
on the compacted topic ``chs.registry.institutions``, from which the APIs that resolve
institutions (reimbursement, chronic) learn them. A code is registered once: the same
institution again changes nothing, other data under a known code is a conflict. The data file's
institutions change in the data file, not here.
"""

import dataclasses
from typing import TypeVar

import asyncpg

from chs_enrollment.commands import ChangeInstitution, RegisterInstitution
from chs_events.errors import Conflict, NotFound
from chs_events.events.institutions import (
    InstitutionChanged,
    InstitutionEvent,
    InstitutionRegistered,
)
from chs_events.institutions import Institution, seeded, seeded_institutions
from chs_events.rows import Table
from chs_events.unit_of_work import UnitOfWork

INSTITUTIONS = Table("institutions", Institution, key="code")


def check_registration(known: Institution | None, wanted: Institution) -> bool:
    """Whether ``wanted`` is new (True) or registered already with the same data (False);
    other data under a registered code refuses (``Conflict``, with what the registry has)."""
    if known is None:
        return True
    if known == wanted:
        return False
    raise Conflict(
        f"institution {known.code} is registered with other data",
        registered={"name": known.name, "level": known.level, "region": known.region},
    )


E = TypeVar("E", bound=InstitutionEvent)


def event_of(kind: type[E], found: Institution) -> E:
    return kind(
        institution_code=found.code,
        institution_name=found.name,
        institution_level=found.level,
        institution_region=found.region,
    )


async def handle_register_institution(
    uow: UnitOfWork, command: RegisterInstitution
) -> tuple[Institution, bool]:
    """The institution and whether it was registered now (→ InstitutionRegistered) rather
    than before with the same data (nothing recorded)."""
    wanted = Institution(command.code, command.name, command.level, command.region)
    async with uow:
        if not check_registration(seeded(command.code), wanted):
            return wanted, False
        # A concurrent registration of the code waits here for the other's commit, then finds
        # its row.
        if not await INSTITUTIONS.insert(uow.conn, wanted, on_conflict_do_nothing=True):
            check_registration(await INSTITUTIONS.get(uow.conn, command.code), wanted)
            return wanted, False
        await uow.record(event_of(InstitutionRegistered, wanted))
    return wanted, True


async def handle_change_institution(
    uow: UnitOfWork, command: ChangeInstitution
) -> tuple[Institution, bool]:
    """The institution as it now is and whether it changed (→ InstitutionChanged); the same
    name and level again change nothing. The data file's institutions are refused (409)."""
    async with uow:
        if seeded(command.code) is not None:
            raise Conflict(
                f"institution {command.code} is one of the data file's; change it there",
                rule="institution_in_data_file",
            )
        known = await INSTITUTIONS.get(uow.conn, command.code, for_update=True)
        if known is None:
            raise NotFound(f"no registered institution {command.code}")
        changed = dataclasses.replace(known, name=command.name, level=command.level)
        if changed == known:
            return known, False
        await INSTITUTIONS.update(uow.conn, changed, ("name", "level"), also="changed_at = now()")
        await uow.record(event_of(InstitutionChanged, changed))
    return changed, True


async def get_institution(conn: asyncpg.Connection, code: str) -> Institution | None:
    return seeded(code) or await INSTITUTIONS.get(conn, code)


async def list_institutions(conn: asyncpg.Connection) -> list[Institution]:
    """Every designated institution, the data file's and the registered ones, by code."""
    registered = await INSTITUTIONS.fetch(conn, "true")
    return sorted([*seeded_institutions(), *registered], key=lambda found: found.code)
