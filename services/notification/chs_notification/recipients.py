"""Who receives a message's SMS, and the params it is rendered with.

A person's messages go to their own mobile; a newborn's go to the guardian's mobile until the
newborn has one. The greeting params a notice leaves to the directory (``DIRECTORY_PARAMS``)
are filled with the name of the person whose phone receives the message, or of the person
the notice names by id (``DIRECTORY_REFERENCES``: a newborn notice's ``newborn_person_id``). A
message about a mobile change goes to the number the directory chose (``to_mobile``). A number
whose holder died (the contact's ``deceased_on``) gets only what the family must know
(``withheld``).
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import asyncpg

from chs_events.identity import age_on
from chs_notification import repository
from chs_notification.domain import (
    DIRECTORY_PARAMS,
    DIRECTORY_REFERENCES,
    withheld_after_death,
)


@dataclass(frozen=True)
class Recipient:
    """Whose mobile a message goes to: the person's own, or a newborn's guardian's."""

    person_id: str
    mobile: str
    birth_date: date | None
    name: str | None
    deceased_on: date | None = None  # the holder of the mobile died


async def find_recipient(
    conn: asyncpg.Connection, person_id: str, to_mobile: str | None = None
) -> Recipient | None:
    """``to_mobile``: the number the directory chose for the message (a mobile change's)."""
    contact = await repository.get_contact(conn, person_id)
    if to_mobile:
        if contact is None:
            return Recipient(person_id, to_mobile, None, None)
        return Recipient(
            person_id, to_mobile, contact["birth_date"], contact["name"], contact["deceased_on"]
        )
    if contact is None:
        return None
    if contact["mobile"]:
        return Recipient(
            person_id,
            contact["mobile"],
            contact["birth_date"],
            contact["name"],
            contact["deceased_on"],
        )
    if contact["guardian_person_id"]:
        guardian = await repository.get_contact(conn, contact["guardian_person_id"])
        if guardian is not None and guardian["mobile"]:
            # the guardian reads it, so the guardian's age picks the variant
            return Recipient(
                guardian["person_id"],
                guardian["mobile"],
                guardian["birth_date"],
                guardian["name"],
                guardian["deceased_on"],
            )
    return None


async def withheld(
    conn: asyncpg.Connection, message: Mapping[str, object], still_sent: Collection[str]
) -> str | None:
    """Why the message (a ``messages`` row) is not sent: the holder of the mobile it goes to
    died and its template is not one the family must still get; None when it may go (or its
    recipient is not known yet)."""
    to_mobile = message["to_mobile"]
    recipient = await find_recipient(
        conn, str(message["person_id"]), to_mobile if isinstance(to_mobile, str) else None
    )
    if recipient is None:
        return None
    return withheld_after_death(str(message["template_id"]), recipient.deceased_on, still_sent)


async def referenced_names(
    conn: asyncpg.Connection, params: Mapping[str, str], template_params: tuple[str, ...]
) -> dict[str, str | None]:
    """The names of the persons a notice names by id (``DIRECTORY_REFERENCES``: the newborn
    of a newborn notice), by the param they fill; None when the directory has no name yet."""
    names: dict[str, str | None] = {}
    for name, reference in DIRECTORY_REFERENCES.items():
        if name in template_params and name not in params and reference in params:
            contact = await repository.get_contact(conn, params[reference])
            names[name] = contact["name"] if contact is not None else None
    return names


def with_directory_params(
    params: Mapping[str, str],
    template_params: tuple[str, ...],
    recipient: Recipient,
    referenced: Mapping[str, str | None] | None = None,
) -> dict[str, str] | None:
    """The notice's params plus the greeting params it left to the directory; None when one
    is needed and the directory has no name (the contact has not arrived yet)."""
    filled = dict(params)
    for name in template_params:
        if name in DIRECTORY_PARAMS and name not in filled:
            value = (referenced or {}).get(name) if name in DIRECTORY_REFERENCES else recipient.name
            if not value:
                return None
            filled[name] = value
    return filled


async def awaited_contact(
    conn: asyncpg.Connection,
    person_id: str,
    params: Mapping[str, str],
    template_params: tuple[str, ...],
) -> str | None:
    """Whose contact a notice to ``person_id`` still waits for before it can be sent: the
    person's own, a newborn's guardian's, or the one a notice names by id (its name); None
    when the directory has all it needs."""
    recipient = await find_recipient(conn, person_id)
    if recipient is None:
        contact = await repository.get_contact(conn, person_id)
        if contact is not None and not contact["mobile"] and contact["guardian_person_id"]:
            return str(contact["guardian_person_id"])
        return person_id
    referenced = await referenced_names(conn, params, template_params)
    for name, value in referenced.items():
        if not value:
            return params[DIRECTORY_REFERENCES[name]]
    if with_directory_params(params, template_params, recipient, referenced) is None:
        return recipient.person_id
    return None


def age_of(birth_date: date | None, today: date) -> int | None:
    if birth_date is None or birth_date > today:
        return None
    return age_on(birth_date, today)
