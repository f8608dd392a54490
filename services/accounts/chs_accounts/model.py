"""The state the ledger rules act on: accounts, family authorizations and ledger transactions.

Frozen dataclasses, loaded and stored by ``repository``; no I/O here. An ``Account``'s methods
are its changes: each returns the new state (the account, and the ledger transaction that moved
its money) and the event it raises; a broken rule raises a ``domain`` error.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from chs_accounts.domain import (
    AccountClosed,
    FamilyMemberNotFound,
    InsufficientBalance,
    authorized_relation,
)
from chs_events.errors import InvalidField
from chs_events.events.account import (
    AccountCredited,
    AccountDebited,
    AccountOpened,
    AccountTransferredIn,
    AccountTransferredOut,
    AccountTransferredWithin,
    AccountWithdrawn,
    FamilyMemberAuthorized,
    FamilyMemberRevoked,
    MerchantKind,
    Relation,
)

Status = Literal["open", "closed"]
OPEN: Status = "open"
CLOSED: Status = "closed"
Kind = Literal["credit", "debit", "transfer_out", "transfer_in", "transfer_within", "withdrawal"]
TRANSFERRED_OUT = "transferred_out"  # the closed reason of an account a transfer took out


# --- the ledger's accounts ------------------------------------------------------------------------

FUND_ALLOCATION = "fund:allocation"  # the contributions' share allocated to accounts
TRANSFER_CLEARING = "clearing:transfer"  # balances moving across provinces


def personal(account_id: str) -> str:
    return f"personal:{account_id}"


def merchant(code: str) -> str:
    return f"merchant:{code}"


def heirs(account_id: str) -> str:
    return f"heirs:{account_id}"


# --- transaction ids ------------------------------------------------------------------------------
# The ledger's own are deterministic (a redelivered event posts nothing); a client's key lives in
# its own namespace, ``client:<merchant>:<key>``, so no key a window sends can ever be one of the
# ledger's own ids (a 1-fen debit keyed ``contribution:<payment>`` cannot stand in for the
# credit), and each merchant's keys are its own.


def client_posting(merchant_code: str, key: str) -> str:
    return f"client:{merchant_code}:{key}"


def contribution_posting(payment_id: str) -> str:
    return f"contribution:{payment_id}"


def transfer_out_posting(transfer_id: str) -> str:
    return f"transfer-out:{transfer_id}"


def transfer_in_posting(transfer_id: str) -> str:
    return f"transfer-in:{transfer_id}"


def transfer_within_posting(transfer_id: str) -> str:
    return f"transfer-within:{transfer_id}"


def forwarded_posting(closing: "LedgerTransaction", payment_id: str) -> str:
    """A late contribution forwarded after the transfer that closed the account."""
    return f"{closing.transaction_id}:{contribution_posting(payment_id)}"


def withdrawal_posting(enrollment_id: str) -> str:
    return f"withdrawal:{enrollment_id}"


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
    reference: str | None = None  # payment id, transfer id, merchant code
    spender_person_id: str | None = None
    request_hash: str | None = None  # a debit's request, to tell a reused idempotency key
    region: str | None = None  # a transfer's other region: where the balance went or came from
    platform_reference: str | None = None  # a transfer in: the national platform's reference
    entered_by: str | None = None  # a transfer in: the receiving region's staff who entered it
    client_key: str | None = None  # a debit: the key the window sent

    @property
    def postings(self) -> tuple[Posting, Posting]:
        """The account's line and its counterpart's: they sum to zero. A transfer within the
        province is the whole balance out of the account in its from-region and into it in its
        to-region: the account against itself, its balance unchanged."""
        signed = self.amount_fen if self.kind in ("credit", "transfer_in") else -self.amount_fen
        return (Posting(personal(self.account_id), signed), Posting(self.counterpart, -signed))


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

    @classmethod
    def open(
        cls,
        account_id: str,
        person_id: str,
        enrollment_id: str,
        pooling_region: str,
        opened_on: date,
    ) -> tuple["Account", AccountOpened]:
        """A new, empty account (an employee (310) enrollment, or a transfer into the
        province of a person who has none)."""
        account = cls(account_id, person_id, enrollment_id, pooling_region, OPEN, 0, opened_on)
        return account, AccountOpened.of(account)

    # --- money in and out ---------------------------------------------------------------------

    def credit(
        self, payment_id: str, amount_fen: int, at: datetime, *, period: str, rule_id: str
    ) -> tuple["Account", LedgerTransaction, AccountCredited]:
        """A contribution's share by the allocation rule ``rule_id``, from the fund."""
        self._check_open()
        return self._credited(payment_id, amount_fen, at, period=period, rule_id=rule_id)

    def debit(
        self,
        family: list[FamilyMember],
        client_key: str,
        amount_fen: int,
        merchant_code: str,
        merchant_kind: MerchantKind,
        spender: str,
        at: datetime,
        fingerprint: str,
    ) -> tuple["Account", LedgerTransaction, AccountDebited]:
        """A payment at a window by the holder or an authorized family member, never more than
        the balance; the event names the spender's relation (None: the holder). The window's key
        is posted as ``client:<merchant>:<key>`` (``client_posting``)."""
        self._check_open()
        relation = authorized_relation(self, family, spender)
        if amount_fen <= 0:
            raise InvalidField("amount_fen", "must be positive")
        if amount_fen > self.balance_fen:
            raise InsufficientBalance(self, amount_fen)
        account, transaction = self._post(
            client_posting(merchant_code, client_key),
            "debit",
            amount_fen,
            merchant(merchant_code),
            at,
            reference=merchant_code,
            spender_person_id=spender,
            request_hash=fingerprint,
            client_key=client_key,
        )
        debited = AccountDebited.of(
            account,
            transaction,
            merchant_code=merchant_code,
            merchant_kind=merchant_kind,
            relation=relation,
        )
        return account, transaction, debited

    def transfer_out(
        self, transfer_id: str, to_region: str, at: datetime, on: date
    ) -> tuple["Account", LedgerTransaction, AccountTransferredOut]:
        """A cross-province transfer out of the province: the whole balance the ledger holds to
        transfer clearing, and the account closes."""
        account, transaction = self._close_out(
            transfer_out_posting(transfer_id),
            "transfer_out",
            TRANSFER_CLEARING,
            at,
            TRANSFERRED_OUT,
            on,
            reference=transfer_id,
            region=to_region,
        )
        moved = AccountTransferredOut.of(
            account, transaction, transfer_id=transfer_id, to_region=to_region
        )
        return account, transaction, moved

    def credit_and_forward(
        self,
        closing: LedgerTransaction,
        payment_id: str,
        amount_fen: int,
        at: datetime,
        *,
        period: str,
        rule_id: str,
    ) -> tuple[
        "Account",
        tuple[LedgerTransaction, LedgerTransaction],
        AccountCredited,
        AccountTransferredOut,
    ]:
        """A contribution that arrives after a transfer out of the province closed the account
        (``closing``, its transfer-out): it is owed all the same, so it is credited and at once
        forwarded to where the account went, a further movement of that transfer. The account
        stays closed with balance 0; what is owed does not depend on which topic's consumer was
        faster."""
        if self.status != CLOSED or closing.kind != "transfer_out" or closing.reference is None:
            raise AccountClosed(self)
        credited_account, credit, credited = self._credited(
            payment_id, amount_fen, at, period=period, rule_id=rule_id
        )
        account, forward = credited_account._post(
            forwarded_posting(closing, payment_id),
            "transfer_out",
            amount_fen,
            TRANSFER_CLEARING,
            at,
            reference=closing.reference,
            region=closing.region,
        )
        forwarded = AccountTransferredOut.of(
            account,
            forward,
            transfer_id=closing.reference,
            to_region=closing.region or self.pooling_region,
        )
        return account, (credit, forward), credited, forwarded

    def transfer_within(
        self, transfer_id: str, enrollment_id: str, to_region: str, at: datetime
    ) -> tuple["Account", LedgerTransaction, AccountTransferredWithin]:
        """A transfer within the province: the whole balance the ledger holds leaves the
        from-region and arrives in the to-region as one movement keyed by the transfer; the same
        account, usable province-wide, pools in the new region."""
        self._check_open()
        transaction = LedgerTransaction(
            transfer_within_posting(transfer_id),
            self.account_id,
            "transfer_within",
            self.balance_fen,
            self.balance_fen,
            self.ledger_account,
            at,
            reference=transfer_id,
            region=to_region,
        )
        account = self.rehome(enrollment_id, to_region)
        moved = AccountTransferredWithin.of(
            account,
            transaction,
            transfer_id=transfer_id,
            from_region=self.pooling_region,
            to_region=to_region,
        )
        return account, transaction, moved

    def transfer_in(
        self,
        transfer_id: str,
        enrollment_id: str,
        from_region: str,
        to_region: str,
        amount_fen: int,
        at: datetime,
        *,
        platform_reference: str,
        entered_by: str,
    ) -> tuple["Account", LedgerTransaction, AccountTransferredIn]:
        """A cross-province transfer into the province: the account (re)opens, pooling in
        ``to_region``, and the balance the out-province confirmed through the national transfer
        platform arrives from transfer clearing, with the platform's reference and the receiving
        region's staff who entered it."""
        reopened = replace(
            self,
            status=OPEN,
            closed_reason=None,
            closed_on=None,
            enrollment_id=enrollment_id,
            pooling_region=to_region,
        )
        account, transaction = reopened._post(
            transfer_in_posting(transfer_id),
            "transfer_in",
            amount_fen,
            TRANSFER_CLEARING,
            at,
            reference=transfer_id,
            region=from_region,
            platform_reference=platform_reference,
            entered_by=entered_by,
        )
        moved = AccountTransferredIn.of(
            account,
            transaction,
            transfer_id=transfer_id,
            from_region=from_region,
            to_region=to_region,
            confirmed_by=entered_by,
        )
        return account, transaction, moved

    def rehome(self, enrollment_id: str, pooling_region: str) -> "Account":
        """A transfer within the province: the same account, usable province-wide, pools in the
        new region; no money moves, no event."""
        return replace(self, enrollment_id=enrollment_id, pooling_region=pooling_region)

    def withdraw(
        self, enrollment_id: str, at: datetime, on: date
    ) -> tuple["Account", LedgerTransaction, AccountWithdrawn]:
        """The holder died: the whole balance to the heirs as a lump sum, and the account
        closes."""
        account, transaction = self._close_out(
            withdrawal_posting(enrollment_id), "withdrawal", heirs(self.account_id), at, "death", on
        )
        return account, transaction, AccountWithdrawn.of(account, transaction)

    # --- 家庭共济 ---------------------------------------------------------------------------------

    def authorize(
        self, family: list[FamilyMember], member_person_id: str, relation: Relation, on: date
    ) -> tuple[FamilyMember, FamilyMemberAuthorized | None]:
        """Let a family member spend from the account; authorized already (the same relation):
        that authorization and no event."""
        self._check_open()
        if member_person_id == self.person_id:
            raise InvalidField("member_person_id", "the holder needs no authorization")
        for member in family:
            if member.member_person_id == member_person_id:
                if member.relation != relation:
                    raise InvalidField(
                        "relation", f"already authorized as {member.relation}; revoke first"
                    )
                return member, None
        member = FamilyMember(self.account_id, member_person_id, relation, on)
        return member, FamilyMemberAuthorized.of(self, member)

    def revoke(
        self, family: list[FamilyMember], member_person_id: str, on: date
    ) -> tuple[FamilyMember, FamilyMemberRevoked]:
        """End a family member's authorization; FamilyMemberNotFound when there is none."""
        for member in family:
            if member.member_person_id == member_person_id:
                return member, FamilyMemberRevoked.of(self, member, revoked_on=on)
        raise FamilyMemberNotFound(f"{member_person_id} is not an authorized family member")

    # --- the ledger's mechanics ---------------------------------------------------------------

    def _credited(
        self, payment_id: str, amount_fen: int, at: datetime, *, period: str, rule_id: str
    ) -> tuple["Account", LedgerTransaction, AccountCredited]:
        """The contribution's credit posted from the fund, whatever the account's status."""
        account, transaction = self._post(
            contribution_posting(payment_id),
            "credit",
            amount_fen,
            FUND_ALLOCATION,
            at,
            reference=payment_id,
        )
        credited = AccountCredited.of(
            account, transaction, payment_id=payment_id, period=period, rule_id=rule_id
        )
        return account, transaction, credited

    def _check_open(self) -> None:
        if self.status == CLOSED:
            raise AccountClosed(self)

    def _post(
        self,
        transaction_id: str,
        kind: Kind,
        amount_fen: int,
        counterpart: str,
        at: datetime,
        *,
        reference: str | None = None,
        spender_person_id: str | None = None,
        request_hash: str | None = None,
        region: str | None = None,
        platform_reference: str | None = None,
        entered_by: str | None = None,
        client_key: str | None = None,
    ) -> tuple["Account", LedgerTransaction]:
        """One transaction of two postings that sum to zero; the balance never goes negative."""
        into = kind in ("credit", "transfer_in")
        balance = self.balance_fen + (amount_fen if into else -amount_fen)
        if amount_fen < 0 or balance < 0:
            raise InsufficientBalance(self, amount_fen)
        transaction = LedgerTransaction(
            transaction_id,
            self.account_id,
            kind,
            amount_fen,
            balance,
            counterpart,
            at,
            reference=reference,
            spender_person_id=spender_person_id,
            request_hash=request_hash,
            region=region,
            platform_reference=platform_reference,
            entered_by=entered_by,
            client_key=client_key,
        )
        return replace(self, balance_fen=balance), transaction

    def _close_out(
        self,
        transaction_id: str,
        kind: Kind,
        counterpart: str,
        at: datetime,
        reason: str,
        on: date,
        *,
        reference: str | None = None,
        region: str | None = None,
    ) -> tuple["Account", LedgerTransaction]:
        """The whole balance leaves and the account closes."""
        self._check_open()
        account, transaction = self._post(
            transaction_id,
            kind,
            self.balance_fen,
            counterpart,
            at,
            reference=reference,
            region=region,
        )
        return replace(account, status=CLOSED, closed_reason=reason, closed_on=on), transaction
