"""Command handlers of the HTTP API: each runs in ONE transaction that locks the account's row
(``select … for update``), changes the ledger and records its events in the outbox."""
from dataclasses import dataclass

import asyncpg

from chs_events.clock import now, today
from chs_events.events.account import AccountDebited, FamilyMemberAuthorized, FamilyMemberRevoked
from chs_events.unit_of_work import UnitOfWork

from chs_accounts import domain, repository
from chs_accounts.commands import (
    AuthorizeFamilyMember,
    Command,
    DebitAccount,
    RevokeFamilyMember,
)
from chs_accounts.model import Account, FamilyMember, LedgerTransaction, merchant

SOURCE = "/chs/accounts"


def unit_of_work(conn: asyncpg.Connection, command: Command) -> UnitOfWork:
    return UnitOfWork(conn, source=SOURCE, correlation_id=command.correlation_id)


async def locked_account(conn: asyncpg.Connection, person_id: str) -> Account:
    account = await repository.get_account(conn, person_id, lock=True)
    if account is None:
        raise domain.NoAccount(person_id, await repository.is_resident(conn, person_id))
    return account


@dataclass(frozen=True)
class Debit:
    transaction: LedgerTransaction
    created: bool  # False: the idempotency key was posted before; this is its result


def debit_fingerprint(command: DebitAccount) -> str:
    return domain.request_hash(command.person_id, command.merchant_code, command.merchant_kind,
                               command.amount_fen, command.spender_person_id)


async def handle_debit(conn: asyncpg.Connection, command: DebitAccount) -> Debit:
    """→ AccountDebited with the balance after; the same transaction id again posts nothing."""
    fingerprint = debit_fingerprint(command)
    async with unit_of_work(conn, command) as uow:
        account = await locked_account(conn, command.person_id)
        posted = await repository.get_transaction(conn, command.transaction_id)
        if posted is not None:
            return Debit(domain.same_request(posted, fingerprint), created=False)
        account, transaction, relation = domain.debit(
            account, await repository.family_of(conn, account.account_id),
            command.transaction_id, command.amount_fen, merchant(command.merchant_code),
            command.spender_person_id, now(), command.merchant_code, fingerprint)
        await repository.insert_transaction(conn, transaction)
        await repository.update_account(conn, account)
        await uow.record(AccountDebited(
            person_id=account.person_id, account_id=account.account_id,
            transaction_id=transaction.transaction_id, amount_fen=transaction.amount_fen,
            balance_after_fen=transaction.balance_after_fen, posted_at=transaction.posted_at,
            merchant_code=command.merchant_code, merchant_kind=command.merchant_kind,
            spender_person_id=command.spender_person_id, relation=relation))
    return Debit(transaction, created=True)


async def handle_authorize(conn: asyncpg.Connection,
                           command: AuthorizeFamilyMember) -> tuple[FamilyMember, bool]:
    """→ FamilyMemberAuthorized; authorizing the same member again changes nothing."""
    async with unit_of_work(conn, command) as uow:
        account = await locked_account(conn, command.person_id)
        domain.check_member(account, command.member_person_id)
        for member in await repository.family_of(conn, account.account_id):
            if member.member_person_id == command.member_person_id:
                if member.relation != command.relation:
                    raise domain.InvalidField(
                        "relation", f"already authorized as {member.relation}; revoke first")
                return member, False
        member = FamilyMember(account.account_id, command.member_person_id, command.relation,
                              today())
        await repository.authorize(conn, member)
        await uow.record(FamilyMemberAuthorized(
            person_id=account.person_id, account_id=account.account_id,
            member_person_id=member.member_person_id, relation=member.relation,
            authorized_on=member.authorized_on))
    return member, True


async def handle_revoke(conn: asyncpg.Connection, command: RevokeFamilyMember) -> None:
    """→ FamilyMemberRevoked; 404 when the member is not authorized."""
    async with unit_of_work(conn, command) as uow:
        account = await locked_account(conn, command.person_id)
        relation = await repository.revoke(conn, account.account_id, command.member_person_id,
                                           today())
        if relation is None:
            raise domain.FamilyMemberNotFound(
                f"{command.member_person_id} is not an authorized family member")
        await uow.record(FamilyMemberRevoked(
            person_id=account.person_id, account_id=account.account_id,
            member_person_id=command.member_person_id, relation=relation,
            revoked_on=today()))
