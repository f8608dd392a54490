"""HTTP API of the reimbursement service (thin: parse, call a handler, shape the answer)."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query, Response

from chs_events.access import found_for_person
from chs_events.auth import Caller
from chs_events.clock import today
from chs_events.errors import NotFound
from chs_events.fields import PersonId
from chs_events.institutions import InstitutionFollower
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.read_models.enrollments import authorize_for_person
from chs_events.service import Connection, UnitOfWorkDep, create_service_app
from chs_reimbursement import handlers, repository
from chs_reimbursement.calculator import InvalidPolicy, load_policy
from chs_reimbursement.commands import (
    PayClaim,
    ReverseSettlement,
    SetAssistedGroups,
    SettleBill,
    SubmitClaim,
)
from chs_reimbursement.schemas import (
    AccumulatorsPublic,
    AssistedGroups,
    ClaimCreate,
    ClaimPublic,
    PayBody,
    PersonReimbursements,
    ReverseBody,
    SettlementCreate,
    SettlementPublic,
)
from chs_reimbursement.settings import ReimbursementSettings

TITLE = "CHS reimbursement (手工报销 and 一站式结算)"
DESCRIPTION = """Reimbursement (手工报销) and one-stop settlement (一站式结算) of the CHS platform.

One calculator splits every bill: basic insurance (deductible by hospital level, ratio by
insured type and level, annual cap), then critical-illness insurance above its annual threshold,
then medical assistance for the assisted groups; temporary remote care pays a first self-pay
share. The result splits like the national settlement record: pooled fund, critical illness,
medical assistance, personal cash, each line with its rule. Amounts are integer fen.

Audits (the `rule` of a refusal): `not_enrolled`, `no_remote_care_filing`, `no_policy`,
`invoice_already_reimbursed` (an invoice is never reimbursed twice, across claims and
settlements), `claim_deadline_passed` (claims). A direct settlement that fails one is refused
(422; 409 for the invoice); a claim is rejected with the rule. Results are published on
`chs.reimbursement.events` through the outbox. Errors are RFC 9457 problem bodies;
`X-Request-Id` becomes the events' correlation id."""

settlements = APIRouter(tags=["settlements"])
claims = APIRouter(tags=["claims"])
persons = APIRouter(tags=["persons"])
policies = APIRouter(tags=["policies"])


@settlements.post("/settlements", status_code=201, responses=problem_responses(409, 422))
async def settle(
    body: SettlementCreate,
    caller: Annotated[Caller, allowed("reimbursement:settle")],
    uow: UnitOfWorkDep,
    response: Response,
) -> SettlementPublic:
    """The HIS settles a visit at discharge: the split is returned and SettlementCompleted
    published. 422 with the `rule` when an audit fails; 409 when the invoice is already
    reimbursed (its settlement or claim in `reimbursed_by`)."""
    authorize(caller, "reimbursement:settle", Target(institution_code=body.institution_code))
    settlement = await handlers.handle_settle(
        uow, SettleBill(body.person_id, body.bill(), body.maternity)
    )
    response.headers["Location"] = f"/settlements/{settlement.settlement_id}"
    return SettlementPublic.of(settlement)


@settlements.get("/settlements/{settlement_id}", responses=problem_responses(404))
async def get_settlement(
    settlement_id: str,
    caller: Annotated[Caller, allowed("reimbursement:read-settlement")],
    conn: Connection,
) -> SettlementPublic:
    settlement = await repository.settlements.found(conn, settlement_id)
    await authorize_for_person(
        conn,
        caller,
        "reimbursement:read-settlement",
        settlement.person_id,
        institution_code=settlement.bill.institution_code,
    )
    return SettlementPublic.of(settlement)


@settlements.post("/settlements/{settlement_id}/reverse", responses=problem_responses(404, 409))
async def reverse(
    settlement_id: str,
    body: ReverseBody,
    caller: Annotated[Caller, allowed("reimbursement:reverse")],
    uow: UnitOfWorkDep,
) -> SettlementPublic:
    """Take a settlement back (冲正) → SettlementReversed; the invoice is free again."""
    settlement = await repository.settlements.found(uow.conn, settlement_id)
    target = Target(institution_code=settlement.bill.institution_code)
    authorize(caller, "reimbursement:reverse", target)
    return SettlementPublic.of(
        await handlers.handle_reverse(uow, ReverseSettlement(settlement_id, body.reason_code))
    )


@claims.post("/claims", status_code=201, responses=problem_responses(422))
async def submit_claim(
    body: ClaimCreate,
    caller: Annotated[Caller, allowed("reimbursement:claim")],
    uow: UnitOfWorkDep,
    response: Response,
) -> ClaimPublic:
    """Submitted and audited at once: `approved` with the split or `rejected` with the rule
    and a reason the person can read (ClaimSubmitted, then ClaimApproved / ClaimRejected)."""
    await authorize_for_person(uow.conn, caller, "reimbursement:claim", body.person_id)
    claim = await handlers.handle_submit_claim(uow, SubmitClaim(body.person_id, body.bill()))
    response.headers["Location"] = f"/claims/{claim.claim_id}"
    return ClaimPublic.of(claim)


@claims.get("/claims/{claim_id}", responses=problem_responses(404))
async def get_claim(
    claim_id: str, caller: Annotated[Caller, allowed("reimbursement:read")], conn: Connection
) -> ClaimPublic:
    return ClaimPublic.of(
        await found_for_person(conn, caller, "reimbursement:read", repository.claims, claim_id)
    )


@claims.post("/claims/{claim_id}/pay", responses=problem_responses(404, 409, 422))
async def pay_claim(
    claim_id: str,
    body: PayBody,
    caller: Annotated[Caller, allowed("reimbursement:pay-claim")],
    uow: UnitOfWorkDep,
) -> ClaimPublic:
    """Record the payment of an approved claim's fund part → ClaimPaid. The same payment
    reported again (same `payment_reference`) answers the paid claim and publishes nothing;
    `paid_on` is between the submission and today."""
    await found_for_person(uow.conn, caller, "reimbursement:pay-claim", repository.claims, claim_id)
    command = PayClaim(claim_id, body.payment_reference, body.paid_on)
    return ClaimPublic.of(await handlers.handle_pay_claim(uow, command))


@persons.get("/persons/{person_id}/reimbursements")
async def person_reimbursements(
    person_id: PersonId,
    caller: Annotated[Caller, allowed("reimbursement:read")],
    conn: Connection,
) -> PersonReimbursements:
    await authorize_for_person(conn, caller, "reimbursement:read", person_id)
    return PersonReimbursements(
        person_id=person_id,
        assisted_groups=sorted(await repository.assisted_groups(conn, person_id)),
        settlements=[
            SettlementPublic.of(s) for s in await repository.settlements_of(conn, person_id)
        ],
        claims=[ClaimPublic.of(c) for c in await repository.claims_of(conn, person_id)],
    )


@persons.get("/persons/{person_id}/accumulators")
async def person_accumulators(
    person_id: PersonId,
    caller: Annotated[Caller, allowed("reimbursement:read-accumulators")],
    conn: Connection,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> AccumulatorsPublic:
    """Year-to-date totals (this year unless `year`)."""
    await authorize_for_person(conn, caller, "reimbursement:read-accumulators", person_id)
    return AccumulatorsPublic.of(
        person_id, await repository.accumulators(conn, person_id, year or today().year)
    )


@persons.put("/persons/{person_id}/assisted-groups")
async def set_assisted_groups(
    person_id: PersonId,
    body: AssistedGroups,
    caller: Annotated[Caller, allowed("reimbursement:set-assisted-groups")],
    uow: UnitOfWorkDep,
) -> AssistedGroups:
    """Set the assisted groups (医疗救助对象) a person is in, from the civil-affairs roll;
    the next settlement applies them."""
    await authorize_for_person(uow.conn, caller, "reimbursement:set-assisted-groups", person_id)
    await handlers.handle_set_groups(uow, SetAssistedGroups(person_id, frozenset(body.groups)))
    return AssistedGroups(groups=sorted(await repository.assisted_groups(uow.conn, person_id)))


@policies.get("/policies/{region}/{year}", responses=problem_responses(404))
async def get_policy(
    region: Annotated[str, Path(pattern=r"^[0-9]{6}$")],
    year: Annotated[int, Path(ge=2000, le=2100)],
    caller: Annotated[Caller, allowed("reimbursement:read-policy")],
) -> dict:
    """The policy parameters of a pooling region and year, as the calculator uses them."""
    try:
        return load_policy(region, year).model_dump(by_alias=True)
    except InvalidPolicy as error:
        raise NotFound(str(error)) from None


def create_app(settings: ReimbursementSettings) -> FastAPI:
    routers = [settlements, claims, persons, policies]
    return create_service_app(
        settings,
        "chs_reimbursement",
        title=TITLE,
        description=DESCRIPTION,
        routers=routers,
        followers=[InstitutionFollower(settings)],  # registered institutions
    )
