"""Request and response bodies of the accounts API. Money is integer fen."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from chs_accounts.model import Account, FamilyMember, Kind, LedgerTransaction, Status
from chs_events.events.account import MerchantKind, Relation
from chs_events.fields import PersonId, examples
from chs_events.schemas import ChinaTime, PublicModel

MEMBER_ID = "p" + "fedcba9876543210" * 2

# The length as bounds, not as a repeat in the pattern: pydantic's regex engine compiles a
# Unicode \w repeated {8,80} times into ~8 MiB of automaton, held by the accounts API at rest.
TransactionId = Annotated[
    str, StringConstraints(pattern=r"^[\w.:-]+$", min_length=8, max_length=80)
]
MerchantCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{6,20}$")]


class DebitCreate(BaseModel):
    """A payment at a pharmacy or hospital window. The transaction id is the idempotency key:
    the ``Idempotency-Key`` header, or ``transaction_id`` here."""

    model_config = examples(
        {
            "merchant_code": "P37020200123",
            "merchant_kind": "pharmacy",
            "amount_fen": 4650,
            "spender_person_id": MEMBER_ID,
            "transaction_id": "POS-20261122-000123",
        }
    )
    merchant_code: MerchantCode = Field(description="Designated pharmacy or hospital code")
    merchant_kind: MerchantKind
    amount_fen: Annotated[int, Field(strict=True, gt=0, le=10**9)]
    spender_person_id: PersonId = Field(
        description="The holder, or a family member the holder authorized (家庭共济)"
    )
    transaction_id: TransactionId | None = None


class DebitPublic(PublicModel):
    transaction_id: str = Field(description="The window's idempotency key, as it sent it")
    account_id: str
    person_id: str
    amount_fen: int
    balance_after_fen: int
    merchant_code: str
    spender_person_id: str
    posted_at: ChinaTime

    @classmethod
    def of(cls, person_id: str, t: LedgerTransaction) -> "DebitPublic":
        return cls.from_attributes(
            t,
            transaction_id=t.client_key or t.transaction_id,
            person_id=person_id,
            merchant_code=t.reference or "",
            spender_person_id=t.spender_person_id or "",
        )


class FamilyCreate(BaseModel):
    model_config = examples({"member_person_id": MEMBER_ID, "relation": "child"})
    member_person_id: PersonId
    relation: Relation


class FamilyMemberPublic(PublicModel):
    account_id: str
    member_person_id: str
    relation: Relation
    authorized_on: date


class TransactionPublic(PublicModel):
    transaction_id: str = Field(
        description="The ledger's id: a window's debit is client:<merchant>:<its key>"
    )
    kind: Kind
    amount_fen: int
    balance_after_fen: int
    counterpart: str
    reference: str | None
    spender_person_id: str | None
    posted_at: ChinaTime


class AccountPublic(PublicModel):
    account_id: str
    person_id: str
    enrollment_id: str
    pooling_region: str
    status: Status
    balance_fen: int
    opened_on: date
    closed_reason: str | None
    closed_on: date | None
    family: list[FamilyMemberPublic]
    transactions: list[TransactionPublic] = Field(description="The latest, newest first")

    @classmethod
    def of(
        cls, a: Account, family: list[FamilyMember], transactions: list[LedgerTransaction]
    ) -> "AccountPublic":
        return cls.from_attributes(a, family=family, transactions=transactions)
