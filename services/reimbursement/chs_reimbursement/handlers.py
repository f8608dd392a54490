"""Command handlers: each runs in ONE transaction that changes the state and records its events
in the outbox, under the person's lock (so the year-to-date accumulators are read and replaced
by one settlement or claim at a time)."""
import asyncpg
import uuid6

from chs_events.clock import now, today
from chs_events.events.reimbursement import (
    ClaimApproved,
    ClaimPaid,
    ClaimRejected,
    ClaimSubmitted,
    SettlementCompleted,
    SettlementReversed,
    SplitLine,
)
from chs_events.locks import load_for_change, lock_person
from chs_events.read_models.enrollments import enrollments_of
from chs_events.read_models.filings import filings_of
from chs_events.unit_of_work import UnitOfWork
from chs_reimbursement import domain, repository
from chs_reimbursement.calculator import Accumulators, Person, Policy, calculate
from chs_reimbursement.calculator import Claim as CalculatorClaim
from chs_reimbursement.commands import (
    PayClaim,
    ReverseSettlement,
    SetAssistedGroups,
    SettleBill,
    SubmitClaim,
)
from chs_reimbursement.model import Bill, Claim, Settlement, Split, Terms


async def _audit(conn: asyncpg.Connection, person_id: str, bill: Bill) -> tuple[Terms, Policy]:
    terms = domain.terms_of(bill, await enrollments_of(conn, person_id),
                            await filings_of(conn, person_id))
    return terms, domain.policy_of(terms, bill)


async def _split(conn: asyncpg.Connection, person_id: str, bill: Bill, terms: Terms,
                 policy: Policy) -> tuple[Split, Accumulators]:
    """The calculator's split; the person's accumulators are replaced by its new ones."""
    before = await repository.accumulators(conn, person_id, bill.service_end.year)
    person = Person(terms.insutype, terms.region,
                    await repository.assisted_groups(conn, person_id))
    split = calculate(CalculatorClaim(person, bill.visit(), terms.filing), before, policy)
    await repository.save_accumulators(conn, person_id, split.accumulators)
    return split, before


def _lines(split: Split) -> list[SplitLine]:
    return [SplitLine(tier=line.tier, amount_fen=line.amount_fen, rule=line.rule)
            for line in split.lines]


def _visit_fields(bill: Bill) -> dict:
    return dict(
        institution_code=bill.institution_code, institution_name=bill.institution_name,
        institution_level=bill.institution_level, institution_region=bill.institution_region,
        visit_type=bill.visit_type, admission_date=bill.admission_date,
        discharge_date=bill.discharge_date, discharge_diagnoses=list(bill.diagnoses),
        total_fen=bill.total_fen, eligible_fen=bill.eligible_fen,
        ineligible_fen=bill.ineligible_fen, invoice_no=bill.invoice_no)


def completed(s: Settlement) -> SettlementCompleted:
    split = s.split
    return SettlementCompleted(
        person_id=s.person_id, settlement_id=s.settlement_id, insutype=s.terms.insutype,
        **_visit_fields(s.bill), pooled_fund_fen=split.pooled_fund_fen,
        critical_illness_fen=split.critical_illness_fen,
        medical_assistance_fen=split.medical_assistance_fen,
        personal_cash_fen=split.personal_cash_fen, lines=_lines(split), maternity=s.maternity,
        remote_care_filing_id=s.terms.filing_id, settled_at=s.settled_at)


async def handle_settle(uow: UnitOfWork, command: SettleBill) -> Settlement:
    """Audit, split and record a direct settlement → SettlementCompleted; ``Refused`` (422) or
    ``InvoiceReimbursed`` (409) change nothing."""
    c, bill = command, command.bill
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        terms, policy = await _audit(conn, c.person_id, bill)
        settlement_id = f"S{uuid6.uuid7().hex}"
        holder = await repository.reserve_invoice(conn, bill.invoice_no,
                                                  settlement_id=settlement_id)
        if holder is not None:
            raise domain.InvoiceReimbursed(bill.invoice_no, holder)
        split, before = await _split(conn, c.person_id, bill, terms, policy)
        settlement = Settlement(settlement_id, c.person_id, bill, terms, c.maternity, split,
                                before, "completed", now())
        await repository.insert_settlement(conn, settlement)
        await uow.record(completed(settlement))
    return settlement


async def handle_reverse(uow: UnitOfWork, command: ReverseSettlement) -> Settlement:
    """Take a settlement back (冲正) → SettlementReversed: its part of the year-to-date totals
    comes off and the invoice is free again."""
    async with uow:
        conn = uow.conn
        current = await load_for_change(
            conn, repository.get_settlement, command.settlement_id,
            missing=lambda key: domain.SettlementNotFound(f"no settlement {key}"))
        if current.status != "completed":
            raise domain.WrongStatus(f"settlement {current.settlement_id} is already "
                                     f"{current.status}", status_now=current.status)
        year = current.accumulators_before.year
        totals = await repository.accumulators(conn, current.person_id, year)
        await repository.save_accumulators(conn, current.person_id, domain.undone(
            totals, current.accumulators_before, current.split.accumulators))
        await repository.release_invoice(conn, current.bill.invoice_no)
        reversed_ = await repository.record_reversal(conn, current.settlement_id, now(),
                                                     command.reason)
        split = reversed_.split
        await uow.record(SettlementReversed(
            person_id=reversed_.person_id, settlement_id=reversed_.settlement_id,
            invoice_no=reversed_.bill.invoice_no,
            institution_name=reversed_.bill.institution_name, total_fen=split.total_fen,
            pooled_fund_fen=split.pooled_fund_fen,
            critical_illness_fen=split.critical_illness_fen,
            medical_assistance_fen=split.medical_assistance_fen, reason=command.reason,
            reversed_at=reversed_.reversed_at))
    return reversed_


async def handle_submit_claim(uow: UnitOfWork, command: SubmitClaim) -> Claim:
    """Receive a claim and audit it at once → ClaimSubmitted, then ClaimApproved with the split
    or ClaimRejected with the rule; both outcomes are results (201), not errors."""
    c, bill = command, command.bill
    async with uow:
        conn = uow.conn
        await lock_person(conn, c.person_id)
        claim_id = f"C{uuid6.uuid7().hex}"
        submitted_at = now()
        submitted_on = today()
        await uow.record(ClaimSubmitted(person_id=c.person_id, claim_id=claim_id,
                                        submitted_on=submitted_on, **_visit_fields(bill)))
        try:
            terms, policy = await _audit(conn, c.person_id, bill)
            domain.check_deadline(bill, policy, submitted_on)
            holder = await repository.reserve_invoice(conn, bill.invoice_no, claim_id=claim_id)
            if holder is not None:
                raise domain.InvoiceReimbursed(bill.invoice_no, holder)
        except (domain.Refused, domain.InvoiceReimbursed) as refused:
            claim = Claim(claim_id, c.person_id, bill, submitted_on, submitted_at, "rejected",
                          now(), rule=refused.rule, reason=refused.reason)
            await repository.insert_claim(conn, claim)
            await uow.record(ClaimRejected(person_id=c.person_id, claim_id=claim_id,
                                           invoice_no=bill.invoice_no, rule=refused.rule,
                                           reason=refused.reason))
            return claim
        split, before = await _split(conn, c.person_id, bill, terms, policy)
        claim = Claim(claim_id, c.person_id, bill, submitted_on, submitted_at, "approved",
                      now(), terms, split, before)
        await repository.insert_claim(conn, claim)
        await uow.record(ClaimApproved(
            person_id=c.person_id, claim_id=claim_id, insutype=terms.insutype,
            invoice_no=bill.invoice_no, institution_name=bill.institution_name,
            total_fen=split.total_fen, eligible_fen=split.eligible_fen,
            pooled_fund_fen=split.pooled_fund_fen,
            critical_illness_fen=split.critical_illness_fen,
            medical_assistance_fen=split.medical_assistance_fen,
            personal_cash_fen=split.personal_cash_fen, lines=_lines(split),
            remote_care_filing_id=terms.filing_id))
    return claim


async def handle_pay_claim(uow: UnitOfWork, command: PayClaim) -> Claim:
    async with uow:
        conn = uow.conn
        current = await load_for_change(
            conn, repository.get_claim, command.claim_id,
            missing=lambda key: domain.ClaimNotFound(f"no claim {key}"))
        if current.status == "paid" and current.payment_reference == command.payment_reference:
            return current  # the same payment reported again
        if current.status != "approved":
            raise domain.WrongStatus(f"claim {current.claim_id} is {current.status}; only an "
                                     "approved claim is paid", status_now=current.status)
        paid_on = command.paid_on or today()
        domain.check_paid_on(paid_on, current.submitted_on, today())
        paid = await repository.record_payment(conn, current.claim_id, paid_on,
                                               command.payment_reference)
        await uow.record(ClaimPaid(
            person_id=paid.person_id, claim_id=paid.claim_id, invoice_no=paid.bill.invoice_no,
            amount_fen=paid.payable_fen, paid_on=paid.paid_on,
            payment_reference=command.payment_reference))
    return paid


async def handle_set_groups(uow: UnitOfWork, command: SetAssistedGroups) -> None:
    async with uow:
        conn = uow.conn
        await lock_person(conn, command.person_id)
        await repository.replace_assisted_groups(conn, command.person_id, command.groups)

