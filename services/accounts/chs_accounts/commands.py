"""Commands of the accounts service; ``correlation_id`` (``X-Request-Id``) becomes the
correlation id of the events they cause."""
from dataclasses import dataclass

from chs_accounts.model import Relation


@dataclass(frozen=True, kw_only=True)
class Command:
    correlation_id: str | None = None


@dataclass(frozen=True)
class DebitAccount(Command):
    """A pharmacy or hospital window takes ``amount_fen`` from ``person_id``'s account, spent by
    the holder or an authorized family member; ``transaction_id`` is the idempotency key."""

    person_id: str
    transaction_id: str
    merchant_code: str
    merchant_kind: str
    amount_fen: int
    spender_person_id: str


@dataclass(frozen=True)
class AuthorizeFamilyMember(Command):
    person_id: str
    member_person_id: str
    relation: Relation


@dataclass(frozen=True)
class RevokeFamilyMember(Command):
    person_id: str
    member_person_id: str
