"""The state the ledger rules act on: accounts, family authorizations and ledger transactions.

Plain frozen dataclasses, loaded and stored by ``repository``; no I/O here.
"""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

EMPLOYEE, RESIDENT = "310", "390"
Status = Literal["open", "closed"]
OPEN, CLOSED = "open", "closed"
Relation = Literal["spouse", "child", "parent", "parent_in_law"]
RELATIONS: tuple[str, ...] = ("spouse", "child", "parent", "parent_in_law")
Kind = Literal["credit", "debit", "transfer_out", "transfer_in", "withdrawal"]


@dataclass(frozen=True)
class Account:
    account_id: str
    person_id: str
    enrollment_id: str
    pooling_region: str
    status: Status
    balance_fen: int
    opened_on: date
    closed_reason: str | None = None
    closed_on: date | None = None

    @property
    def ledger_account(self) -> str:
        return personal(self.account_id)


@dataclass(frozen=True)
class FamilyMember:
    account_id: str
    member_person_id: str
    relation: Relation
    authorized_on: date


@dataclass(frozen=True)
class Posting:
    """One line of a double-entry transaction: + is money into ``ledger_account``."""

    ledger_account: str
    amount_fen: int


@dataclass(frozen=True)
class LedgerTransaction:
    transaction_id: str
    account_id: str
    kind: Kind
    amount_fen: int
    balance_after_fen: int
    counterpart: str
    posted_at: datetime
    reference: str | None = None       # payment id, transfer id, merchant code
    spender_person_id: str | None = None
    request_hash: str | None = None    # a debit's request, to tell a reused idempotency key

    @property
    def postings(self) -> tuple[Posting, Posting]:
        """The account's line and its counterpart's: they sum to zero."""
        signed = self.amount_fen if self.kind in ("credit", "transfer_in") else -self.amount_fen
        return (Posting(personal(self.account_id), signed), Posting(self.counterpart, -signed))


# --- the ledger's accounts -------------------------------------------------------------------------

FUND_ALLOCATION = "fund:allocation"      # the contributions' share allocated to accounts
TRANSFER_CLEARING = "clearing:transfer"  # balances moving across provinces


def personal(account_id: str) -> str:
    return f"personal:{account_id}"


def merchant(code: str) -> str:
    return f"merchant:{code}"


def heirs(account_id: str) -> str:
    return f"heirs:{account_id}"
