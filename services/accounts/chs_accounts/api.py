"""HTTP API of the accounts service (职工医保个人账户): thin routers over the handlers.

Who calls what:
- ``POST /accounts/{person_id}/debits`` — a designated pharmacy's or hospital's settlement window,
  with an ``Idempotency-Key`` (its transaction id): a retried request posts once;
- ``POST /accounts/{person_id}/family``, ``DELETE /accounts/{person_id}/family/{member}`` — the
  holder, through the public service apps (家庭共济 authorization and its revocation);
- ``GET /accounts/{person_id}`` — the holder and agency windows: balance, family, latest postings.

Who may (``chs_events.policy``): a debit only by the merchant whose ``merchant_code`` the body
names; the family only by the holder themself; the account by its holder or an agency of the
account's pooling region (the ledger keeps it, moved by transfers: this service has no
enrollment read model).
"""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Response

from chs_accounts import domain, handlers, repository
from chs_accounts.commands import AuthorizeFamilyMember, DebitAccount, RevokeFamilyMember
from chs_accounts.schemas import (
    AccountPublic,
    DebitCreate,
    DebitPublic,
    FamilyCreate,
    FamilyMemberPublic,
    TransactionId,
)
from chs_accounts.settings import AccountsSettings
from chs_events import policy
from chs_events.auth import Caller
from chs_events.errors import InvalidField
from chs_events.policy import Target, allowed
from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app

TITLE = "CHS accounts (职工医保个人账户)"
DESCRIPTION = """The personal account (职工医保个人账户) of an employee (310): a double-entry ledger
credited from contributions by the allocation rule, debited at pharmacy and hospital windows by
the holder or an authorized family member (家庭共济), moved on transfers (the whole balance it
holds; into the province the balance the national transfer platform confirmed), paid to the
heirs on death. The balance never goes negative; every posting is idempotent by its transaction
id (a window's key is posted as `client:<merchant_code>:<key>`, apart from the ledger's own
ids); every credited / debited event on `chs.account.events` carries the balance after. Residents
(390) have no account. Refusals are RFC 9457 problem bodies with a `reason`:
`no_account` (404), `spender_not_authorized` (403), `insufficient_balance` and `account_closed`
(409), `idempotency_key_reused` (409). `X-Request-Id` becomes the events' correlation id."""

accounts = APIRouter(tags=["accounts"])


@accounts.get("/accounts/{person_id}", responses=problem_responses(403, 404))
async def get_account(
    person_id: str, conn: Connection, caller: Annotated[Caller, allowed("accounts:read")]
) -> AccountPublic:
    account = await repository.get_account(conn, person_id)
    regions = () if account is None else (account.pooling_region,)
    policy.authorize(caller, "accounts:read", Target(person_id=person_id, regions=regions))
    if account is None:
        raise domain.NoAccount(person_id, await repository.is_resident(conn, person_id))
    return AccountPublic.of(
        account,
        await repository.family_of(conn, account.account_id),
        await repository.transactions_of(conn, account.account_id, 20),
    )


@accounts.post(
    "/accounts/{person_id}/debits",
    status_code=201,
    responses={
        200: {"description": "Posted before under this idempotency key", "model": DebitPublic},
        **problem_responses(403, 404, 409, 422),
    },
)
async def debit(
    person_id: str,
    body: DebitCreate,
    uow: UnitOfWorkDep,
    response: Response,
    caller: Annotated[Caller, allowed("accounts:debit")],
    idempotency_key: Annotated[
        TransactionId | None,
        Header(description="The window's transaction id; or transaction_id in the body"),
    ] = None,
) -> DebitPublic:
    """Pay at a window → AccountDebited with the balance after. 201 when posted, 200 with the
    same result when the idempotency key was posted before. Only the merchant whose code the
    body names."""
    policy.authorize(caller, "accounts:debit", Target(merchant_code=body.merchant_code))
    transaction_id = idempotency_key or body.transaction_id
    if transaction_id is None:
        raise InvalidField(
            "Idempotency-Key", "an Idempotency-Key header or a transaction_id is required"
        )
    if idempotency_key and body.transaction_id and idempotency_key != body.transaction_id:
        raise InvalidField("transaction_id", "differs from the Idempotency-Key header")
    result = await handlers.handle_debit(
        uow,
        DebitAccount(
            person_id,
            transaction_id,
            body.merchant_code,
            body.merchant_kind,
            body.amount_fen,
            body.spender_person_id,
        ),
    )
    if not result.created:
        response.status_code = 200
    return DebitPublic.of(person_id, result.transaction)


@accounts.post(
    "/accounts/{person_id}/family",
    status_code=201,
    responses=problem_responses(403, 404, 409, 422),
)
async def authorize(
    person_id: str,
    body: FamilyCreate,
    uow: UnitOfWorkDep,
    response: Response,
    caller: Annotated[Caller, allowed("accounts:family")],
) -> FamilyMemberPublic:
    """家庭共济: let a spouse, child, parent or parent-in-law spend from the account →
    FamilyMemberAuthorized (200 when authorized already). Only the holder themself."""
    policy.authorize(caller, "accounts:family", Target(person_id=person_id))
    member, created = await handlers.handle_authorize(
        uow, AuthorizeFamilyMember(person_id, body.member_person_id, body.relation)
    )
    if not created:
        response.status_code = 200
    return FamilyMemberPublic.model_validate(member)


@accounts.delete(
    "/accounts/{person_id}/family/{member_person_id}",
    status_code=204,
    responses=problem_responses(403, 404),
)
async def revoke(
    person_id: str,
    member_person_id: str,
    uow: UnitOfWorkDep,
    caller: Annotated[Caller, allowed("accounts:family")],
) -> Response:
    """→ FamilyMemberRevoked. Only the holder themself."""
    policy.authorize(caller, "accounts:family", Target(person_id=person_id))
    await handlers.handle_revoke(uow, RevokeFamilyMember(person_id, member_person_id))
    return Response(status_code=204)


def create_app(settings: AccountsSettings) -> FastAPI:
    return create_service_app(
        settings, "chs_accounts", title=TITLE, description=DESCRIPTION, routers=[accounts]
    )
