"""A benefit event as the state keeps it: what was paid, on which day, for which visit (no I/O).

- a settlement (``SettlementCompleted``): what the funds and the account paid (pooled fund,
  critical illness, medical assistance and personal account: all but the person's cash), on
  its service date (admission or visit day), at the settling institution;
- a claim payment (``ClaimPaid``): the amount paid, dated by the service it paid for (the visit
  of its ``ClaimSubmitted``; the payment day when the submission is not known). A claim for
  care before the death paid to the heirs after it is no benefit after death;
- an account debit (``AccountDebited``): the amount, on its posting day (Asia/Shanghai), at the
  merchant, in the account's pooling region when known (``AccountOpened``,
  ``AccountTransferredIn``);
- a maternity allowance (``MaternityAllowancePaid``): the amount, on its payment day.

An injury is a diagnosis of ICD-10 chapter XIX (S00–T98, injury and poisoning) or XX (V01–Y98,
external causes). The benefit events carry no accident flag; the diagnoses are the test.
"""

from datetime import date, datetime

from chs_events.events.reimbursement import ClaimSubmitted, SettlementCompleted
from chs_events.vocabulary import CHINA
from chs_fraud.rules.state import Visit

INJURY_RANGES = (("S00", "T98"), ("V01", "Y98"))


def is_injury(code: str) -> bool:
    category = code.strip().upper()[:3]
    return len(category) == 3 and any(low <= category <= high for low, high in INJURY_RANGES)


def visit_of(event: SettlementCompleted | ClaimSubmitted) -> Visit:
    return Visit(
        event.institution_code,
        event.institution_region,
        event.admission_date,
        event.service_end,
        event.invoice_no,
        any(is_injury(code) for code in event.discharge_diagnoses),
    )


def settled_fen(event: SettlementCompleted) -> int:
    """What the funds and the account paid (all but the person's cash)."""
    return (
        event.pooled_fund_fen
        + event.critical_illness_fen
        + event.medical_assistance_fen
        + event.personal_account_fen
    )


def posting_day(posted_at: datetime) -> date:
    """The business day of a posting (Asia/Shanghai; a naive time is taken as already local)."""
    return posted_at.astimezone(CHINA).date() if posted_at.tzinfo else posted_at.date()
