"""Who receives a message's SMS, and the params it is rendered with.

A person's messages go to their own mobile; a newborn's go to the guardian's mobile until the
newborn has one. The greeting params a notice leaves to the directory (``DIRECTORY_PARAMS``)
are filled with the name of the person whose phone receives the message.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import asyncpg

from chs_events.identity import age_on
from chs_notification import repository
from chs_notification.domain import DIRECTORY_PARAMS


@dataclass(frozen=True)
class Recipient:
    """Whose mobile a message goes to: the person's own, or a newborn's guardian's."""

    person_id: str
    mobile: str
    birth_date: date | None
    name: str | None


async def find_recipient(conn: asyncpg.Connection, person_id: str) -> Recipient | None:
    contact = await repository.get_contact(conn, person_id)
    if contact is None:
        return None
    if contact["mobile"]:
        return Recipient(person_id, contact["mobile"], contact["birth_date"], contact["name"])
    if contact["guardian_person_id"]:
        guardian = await repository.get_contact(conn, contact["guardian_person_id"])
        if guardian is not None and guardian["mobile"]:
            # the guardian reads it, so the guardian's age picks the variant
            return Recipient(
                guardian["person_id"], guardian["mobile"], guardian["birth_date"], guardian["name"]
            )
    return None


def with_directory_params(
    params: Mapping[str, str], template_params: tuple[str, ...], recipient: Recipient
) -> dict[str, str] | None:
    """The notice's params plus the greeting params it left to the directory; None when one
    is needed and the directory has no name (only a ContactChanged arrived so far)."""
    filled = dict(params)
    for name in template_params:
        if name in DIRECTORY_PARAMS and name not in filled:
            if not recipient.name:
                return None
            filled[name] = recipient.name
    return filled


def age_of(birth_date: date | None, today: date) -> int | None:
    if birth_date is None or birth_date > today:
        return None
    return age_on(birth_date, today)
