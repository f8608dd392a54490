"""The ledger rules of the personal account (职工医保个人账户). No I/O.

- Only an employee (310) enrollment opens an account; residents have none.
- Income: contributions, by the allocation rule (``allocation``); a cross-province transfer into
  the province (the out-region's stated balance).
- Expense: a debit at a pharmacy or hospital window by the holder or an authorized family member
  (家庭共济: spouse, child, parent, parent-in-law), never more than the balance; a cross-province
  transfer out of the province (the whole balance, the account closes); the lump-sum withdrawal
  to the heirs on death (the whole balance, the account closes).
- Every transaction is two postings that sum to zero (the account and its counterpart); the
  balance is the sum of the account's postings and never negative.
"""

import hashlib
from typing import TYPE_CHECKING, Literal

from chs_events.errors import Conflict, NotFound, NotPermitted
from chs_events.events.account import Relation

if TYPE_CHECKING:
    from chs_accounts.model import Account, FamilyMember, LedgerTransaction


class NoAccount(NotFound):
    """The person has no personal account: not an employee (310), e.g. a resident."""

    def __init__(self, person_id: str, resident: bool) -> None:
        detail = (
            f"person {person_id} is insured as a resident (390): residents have no personal account"
            if resident
            else f"person {person_id} has no personal account (only an employee (310) "
            "enrollment opens one)"
        )
        super().__init__(detail, reason="no_account", person_id=person_id)


class AccountClosed(Conflict):
    def __init__(self, account: "Account") -> None:
        super().__init__(
            f"account {account.account_id} is closed ({account.closed_reason})",
            reason="account_closed",
            account_id=account.account_id,
        )


class InsufficientBalance(Conflict):
    def __init__(self, account: "Account", amount_fen: int) -> None:
        super().__init__(
            f"insufficient balance: {amount_fen} fen asked, {account.balance_fen} fen in the "
            "account",
            reason="insufficient_balance",
            balance_fen=account.balance_fen,
            amount_fen=amount_fen,
        )


class SpenderNotAuthorized(NotPermitted):
    def __init__(self, spender: str) -> None:
        super().__init__(
            f"{spender} is neither the holder nor an authorized family member",
            reason="spender_not_authorized",
            spender_person_id=spender,
        )


class IdempotencyKeyReused(Conflict):
    def __init__(self, transaction_id: str) -> None:
        super().__init__(
            f"transaction {transaction_id} was posted for another request",
            reason="idempotency_key_reused",
            transaction_id=transaction_id,
        )


class FamilyMemberNotFound(NotFound):
    pass


def request_hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def authorized_relation(
    account: "Account", family: "list[FamilyMember]", spender: str
) -> Relation | None:
    """None for the holder, the relation for an authorized member; SpenderNotAuthorized else."""
    if spender == account.person_id:
        return None
    for member in family:
        if member.member_person_id == spender:
            return member.relation
    raise SpenderNotAuthorized(spender)


def same_request(posted: "LedgerTransaction", fingerprint: str) -> "LedgerTransaction":
    """A debit posted before under this idempotency key: its result, if the request is the same."""
    if posted.request_hash != fingerprint:
        raise IdempotencyKeyReused(posted.transaction_id)
    return posted


Direction = Literal["out", "in", "within"]


def transfer_direction(from_region: str, to_region: str, home_province: str) -> Direction:
    """'out' (leaves the province), 'in' (enters it), 'within' (re-homes the same account)."""
    home = home_province[:2]
    inside_from, inside_to = from_region[:2] == home, to_region[:2] == home
    if inside_from and not inside_to:
        return "out"
    if inside_to and not inside_from:
        return "in"
    return "within"
