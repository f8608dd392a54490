"""Who receives a message's SMS, and the params it is rendered with.

A person's messages go to their own mobile; a newborn's go to the guardian's mobile until the
newborn has one. The greeting params a notice leaves to the directory (``DIRECTORY_PARAMS``)
are filled with the name of the person whose phone receives the message, or of the person
the notice names by id (``DIRECTORY_REFERENCES``: a newborn notice's ``newborn_person_id``). A
message about a mobile change goes to the number the directory chose (``to_mobile``). A number
whose holder died (the contact's ``deceased_on``) gets only what the family must know
(``withheld``).
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

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


Contacts = Mapping[str, Mapping[str, Any]]  # person id → its ``contacts`` row


def referenced_ids(params: Mapping[str, str], template_params: tuple[str, ...]) -> list[str]:
    """The persons a notice names by id whose names it needs (``DIRECTORY_REFERENCES``)."""
    return [
        params[reference]
        for name, reference in DIRECTORY_REFERENCES.items()
        if name in template_params and name not in params and reference in params
    ]


async def contacts_for(
    conn: asyncpg.Connection, messages: Iterable[tuple[str, Mapping[str, str], tuple[str, ...]]]
) -> Contacts:
    """What the directory knows of the recipients of ``messages`` (person id, params, the
    template's params): the persons, their guardians and the persons named by id, in one
    statement."""
    wanted: set[str] = set()
    for person_id, params, template_params in messages:
        wanted.add(person_id)
        wanted.update(referenced_ids(params, template_params))
    return await repository.contacts_with_guardians(conn, wanted)


def recipient_in(
    contacts: Contacts, person_id: str, to_mobile: str | None = None
) -> Recipient | None:
    """``to_mobile``: the number the directory chose for the message (a mobile change's);
    ``contacts`` holds the person's and the guardian's (``contacts_for``)."""
    contact = contacts.get(person_id)
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
        guardian = contacts.get(contact["guardian_person_id"])
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


def withheld_in(
    contacts: Contacts, message: Mapping[str, object], still_sent: Collection[str]
) -> str | None:
    """Why the message (a ``messages`` row, or its person_id, template_id and to_mobile) is not
    sent: the holder of the mobile it goes to died and its template is not one the family must
    still get; None when it may go (or its recipient is not known yet)."""
    to_mobile = message["to_mobile"]
    recipient = recipient_in(
        contacts, str(message["person_id"]), to_mobile if isinstance(to_mobile, str) else None
    )
    if recipient is None:
        return None
    return withheld_after_death(str(message["template_id"]), recipient.deceased_on, still_sent)


async def withheld(
    conn: asyncpg.Connection, message: Mapping[str, object], still_sent: Collection[str]
) -> str | None:
    """``withheld_in`` the directory as it is now."""
    contacts = await contacts_for(conn, [(str(message["person_id"]), {}, ())])
    return withheld_in(contacts, message, still_sent)


def names_in(
    contacts: Contacts, params: Mapping[str, str], template_params: tuple[str, ...]
) -> dict[str, str | None]:
    """The names of the persons a notice names by id (``DIRECTORY_REFERENCES``: the newborn
    of a newborn notice), by the param they fill; None when the directory has no name yet."""
    names: dict[str, str | None] = {}
    for name, reference in DIRECTORY_REFERENCES.items():
        if name in template_params and name not in params and reference in params:
            contact = contacts.get(params[reference])
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


def awaited_in(
    contacts: Contacts,
    person_id: str,
    params: Mapping[str, str],
    template_params: tuple[str, ...],
) -> str | None:
    """Whose contact a notice to ``person_id`` still waits for before it can be sent: the
    person's own, a newborn's guardian's, or the one a notice names by id (its name); None
    when the directory has all it needs. ``contacts``: ``contacts_for`` the notice."""
    recipient = recipient_in(contacts, person_id)
    if recipient is None:
        contact = contacts.get(person_id)
        if contact is not None and not contact["mobile"] and contact["guardian_person_id"]:
            return str(contact["guardian_person_id"])
        return person_id
    referenced = names_in(contacts, params, template_params)
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
