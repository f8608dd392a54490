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
from dataclasses import replace
from datetime import date, datetime

from chs_events.errors import Conflict, NotFound, NotPermitted, Rejected

from chs_accounts.model import (
    CLOSED,
    Account,
    FamilyMember,
    Kind,
    LedgerTransaction,
)


class InvalidField(Rejected):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}",
                         errors=[{"field": field_name, "reason": reason}])


class NoAccount(NotFound):
    """The person has no personal account: not an employee (310), e.g. a resident."""

    def __init__(self, person_id: str, resident: bool) -> None:
        detail = (f"person {person_id} is insured as a resident (390): residents have no "
                  "personal account" if resident else
                  f"person {person_id} has no personal account (only an employee (310) "
                  "enrollment opens one)")
        super().__init__(detail, reason="no_account", person_id=person_id)


class AccountClosed(Conflict):
    def __init__(self, account: Account) -> None:
        super().__init__(f"account {account.account_id} is closed ({account.closed_reason})",
                         reason="account_closed", account_id=account.account_id)


class InsufficientBalance(Conflict):
    def __init__(self, account: Account, amount_fen: int) -> None:
        super().__init__(
            f"insufficient balance: {amount_fen} fen asked, {account.balance_fen} fen in the "
            "account", reason="insufficient_balance", balance_fen=account.balance_fen,
            amount_fen=amount_fen)


class SpenderNotAuthorized(NotPermitted):
    def __init__(self, spender: str) -> None:
        super().__init__(f"{spender} is neither the holder nor an authorized family member",
                         reason="spender_not_authorized", spender_person_id=spender)


class IdempotencyKeyReused(Conflict):
    def __init__(self, transaction_id: str) -> None:
        super().__init__(f"transaction {transaction_id} was posted for another request",
                         reason="idempotency_key_reused", transaction_id=transaction_id)


class FamilyMemberNotFound(NotFound):
    pass


def request_hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _open(account: Account) -> None:
    if account.status == CLOSED:
        raise AccountClosed(account)


def _post(account: Account, transaction_id: str, kind: Kind, amount_fen: int, counterpart: str,
          at: datetime, **details: str | None) -> tuple[Account, LedgerTransaction]:
    into = kind in ("credit", "transfer_in")
    balance = account.balance_fen + (amount_fen if into else -amount_fen)
    if amount_fen < 0 or balance < 0:
        raise InsufficientBalance(account, amount_fen)
    return (replace(account, balance_fen=balance),
            LedgerTransaction(transaction_id, account.account_id, kind, amount_fen, balance,
                              counterpart, at, **details))


def credit(account: Account, transaction_id: str, amount_fen: int, counterpart: str,
           at: datetime, reference: str | None = None) -> tuple[Account, LedgerTransaction]:
    _open(account)
    return _post(account, transaction_id, "credit", amount_fen, counterpart, at,
                 reference=reference)


def authorized_relation(account: Account, family: list[FamilyMember],
                        spender: str) -> str | None:
    """None for the holder, the relation for an authorized member; SpenderNotAuthorized else."""
    if spender == account.person_id:
        return None
    for member in family:
        if member.member_person_id == spender:
            return member.relation
    raise SpenderNotAuthorized(spender)


def debit(account: Account, family: list[FamilyMember], transaction_id: str, amount_fen: int,
          merchant_account: str, spender: str, at: datetime, reference: str,
          fingerprint: str) -> tuple[Account, LedgerTransaction, str | None]:
    """The debit, its transaction and the spender's relation (None: the holder)."""
    _open(account)
    relation = authorized_relation(account, family, spender)
    if amount_fen <= 0:
        raise InvalidField("amount_fen", "must be positive")
    if amount_fen > account.balance_fen:
        raise InsufficientBalance(account, amount_fen)
    account, transaction = _post(account, transaction_id, "debit", amount_fen, merchant_account,
                                 at, reference=reference, spender_person_id=spender,
                                 request_hash=fingerprint)
    return account, transaction, relation


def same_request(posted: LedgerTransaction, fingerprint: str) -> LedgerTransaction:
    """A debit posted before under this idempotency key: its result, if the request is the same."""
    if posted.request_hash != fingerprint:
        raise IdempotencyKeyReused(posted.transaction_id)
    return posted


def close_out(account: Account, transaction_id: str, kind: Kind, counterpart: str, at: datetime,
              reason: str, today: date, reference: str | None = None
              ) -> tuple[Account, LedgerTransaction]:
    """The whole balance leaves (transfer out, withdrawal on death) and the account closes."""
    _open(account)
    account, transaction = _post(account, transaction_id, kind, account.balance_fen,
                                 counterpart, at, reference=reference)
    return replace(account, status=CLOSED, closed_reason=reason, closed_on=today), transaction


def check_member(account: Account, member_person_id: str) -> None:
    _open(account)
    if member_person_id == account.person_id:
        raise InvalidField("member_person_id", "the holder needs no authorization")


def transfer_direction(from_region: str, to_region: str, home_province: str) -> str:
    """'out' (leaves the province), 'in' (enters it), 'within' (re-homes the same account)."""
    home = home_province[:2]
    inside_from, inside_to = from_region[:2] == home, to_region[:2] == home
    if inside_from and not inside_to:
        return "out"
    if inside_to and not inside_from:
        return "in"
    return "within"
