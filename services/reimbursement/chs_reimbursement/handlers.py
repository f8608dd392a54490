"""Command handlers: each runs in ONE unit of work that changes the state and records its
events in the outbox, under the person's lock (so the year-to-date accumulators are read and
replaced by one settlement or claim at a time). The aggregates (``model``) decide; a handler
loads, locks, calls, saves and records."""

import asyncpg
import uuid6

from chs_events.clock import now, today
from chs_events.locks import lock_person
from chs_events.read_models.enrollments import enrollments_of
from chs_events.read_models.filings import filings_of
from chs_events.unit_of_work import UnitOfWork
from chs_reimbursement import domain, repository
from chs_reimbursement.calculator import Accumulators, Case, Person, Policy, calculate
from chs_reimbursement.commands import (
    PayClaim,
    ReverseSettlement,
    SetAssistedGroups,
    SettleBill,
    SubmitClaim,
)
from chs_reimbursement.model import Bill, Claim, Settlement, Split, Submission, Terms


async def _audit(conn: asyncpg.Connection, person_id: str, bill: Bill) -> tuple[Terms, Policy]:
    terms = domain.terms_of(
        bill, await enrollments_of(conn, person_id), await filings_of(conn, person_id)
    )
    return terms, domain.policy_of(terms, bill)


async def _split(
    conn: asyncpg.Connection, person_id: str, bill: Bill, terms: Terms, policy: Policy
) -> tuple[Split, Accumulators]:
    """The calculator's split; the person's accumulators are replaced by its new ones."""
    before = await repository.accumulators(conn, person_id, bill.service_end.year)
    person = Person(terms.insutype, terms.region, await repository.assisted_groups(conn, person_id))
    split = calculate(Case(person, bill.visit(), terms.filing), before, policy)
    await repository.save_accumulators(conn, person_id, split.accumulators)
    return split, before


async def handle_settle(uow: UnitOfWork, command: SettleBill) -> Settlement:
    """Audit, split and record a direct settlement → SettlementCompleted; ``Refused`` (422) or
    ``InvoiceReimbursed`` (409) change nothing."""
    c, bill = command, command.bill
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        terms, policy = await _audit(conn, c.person_id, bill)
        settlement_id = f"S{uuid6.uuid7().hex}"
        holder = await repository.reserve_invoice(
            conn, bill.institution_code, bill.invoice_no, settlement_id=settlement_id
        )
        if holder is not None:
            raise domain.InvoiceReimbursed(bill.invoice_no, holder)
        split, before = await _split(conn, c.person_id, bill, terms, policy)
        settlement, completed = Settlement.settle(
            settlement_id, c.person_id, bill, terms, c.maternity, split, before, now()
        )
        await repository.insert_settlement(conn, settlement)
        await uow.record(completed)
    return settlement


async def handle_reverse(uow: UnitOfWork, command: ReverseSettlement) -> Settlement:
    """Take a settlement back (冲正) → SettlementReversed: its part of the year-to-date totals
    comes off and the invoice is free again."""
    async with uow:
        conn = uow.conn
        current = await repository.settlements.for_change(conn, command.settlement_id)
        reversed_, event = current.reverse(now(), command.reason_code)
        before = current.accumulators_before
        totals = await repository.accumulators(conn, current.person_id, before.year)
        await repository.save_accumulators(
            conn, current.person_id, domain.undone(totals, before, current.split.accumulators)
        )
        await repository.release_invoice(
            conn, current.bill.institution_code, current.bill.invoice_no
        )
        await repository.save_settlement(conn, reversed_)
        await uow.record(event)
    return reversed_


async def handle_submit_claim(uow: UnitOfWork, command: SubmitClaim) -> Claim:
    """Receive a claim and audit it at once → ClaimSubmitted, then ClaimApproved with the split
    or ClaimRejected with the rule; both outcomes are results (201), not errors."""
    c, bill = command, command.bill
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        submission = Submission(f"C{uuid6.uuid7().hex}", c.person_id, bill, today(), now())
        await uow.record(submission.submitted())
        try:
            terms, policy = await _audit(conn, c.person_id, bill)
            domain.check_deadline(bill, policy, submission.submitted_on)
            holder = await repository.reserve_invoice(
                conn, bill.institution_code, bill.invoice_no, claim_id=submission.claim_id
            )
            if holder is not None:
                raise domain.InvoiceReimbursed(bill.invoice_no, holder)
        except (domain.Refused, domain.InvoiceReimbursed) as refused:
            claim, rejected = submission.reject(refused.rule, refused.reason, now())
            await repository.insert_claim(conn, claim)
            await uow.record(rejected)
            return claim
        split, before = await _split(conn, c.person_id, bill, terms, policy)
        claim, approved = submission.approve(terms, split, before, now())
        await repository.insert_claim(conn, claim)
        await uow.record(approved)
    return claim


async def handle_pay_claim(uow: UnitOfWork, command: PayClaim) -> Claim:
    """Record the payment of an approved claim → ClaimPaid; the same payment again changes
    nothing."""
    async with uow:
        conn = uow.conn
        current = await repository.claims.for_change(conn, command.claim_id)
        paid, event = current.pay(command.paid_on, command.payment_reference, today())
        if event is None:
            return current  # the same payment reported again
        await repository.save_claim(conn, paid)
        await uow.record(event)
    return paid


async def handle_set_groups(uow: UnitOfWork, command: SetAssistedGroups) -> None:
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        await repository.replace_assisted_groups(conn, command.person_id, command.groups)
