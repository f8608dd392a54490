"""The transfer state machine and its rules (关系转移接续). No I/O."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from chs_events.errors import Conflict, NotPermitted, Rejected
from chs_events.events.transfer import MAX_TRANSFER_IN_FEN
from chs_events.problems import domain_problem
from chs_events.read_models.enrollments import Enrollment
from chs_transfer import domain
from chs_transfer.domain import NotActiveEmployee, NotYoursToState, TransferOpen, WrongState
from chs_transfer.model import Contribution, PlatformConfirmation, Transfer

pytestmark = pytest.mark.unit

QINGDAO, JINAN, SHINAN, SUZHOU = "370200", "370100", "370202", "320500"
TODAY = date(2026, 11, 22)
HOME = "370000"  # the province the platform serves
CONFIRMED = PlatformConfirmation(25050, "ZY2026112200001", "staff-qd-1")


def enrollment(
    insutype: str = "310",
    region: str = QINGDAO,
    *,
    start: date = date(2025, 1, 1),
    end: date | None = None,
) -> Enrollment:
    return Enrollment("en-1", "p1", insutype, region, start, end)


def paid(period: str, personal: int = 13000, employer: int = 58500) -> Contribution:
    return Contribution(f"pay-{period}", "en-1", period, employer, personal)


CONTRIBUTIONS = [paid("202609"), paid("202610"), paid("202611")]


def requested(to_region: str = SUZHOU) -> Transfer:
    return Transfer.request("t-1", enrollment(), None, to_region, TODAY, CONTRIBUTIONS)[0]


def into_qingdao() -> Transfer:
    """A transfer from Suzhou into the province (Qingdao), out-confirmed."""
    transfer = Transfer.request(
        "t-9", enrollment(region=SUZHOU), None, QINGDAO, TODAY, CONTRIBUTIONS
    )[0]
    return confirm_out(transfer, CONTRIBUTIONS, TODAY)


def confirm_out(transfer: Transfer, *args, **kwargs) -> Transfer:
    return transfer.confirm_out(*args, **kwargs)[0]


def complete(transfer: Transfer, today: date, confirmation=None) -> Transfer:
    return transfer.complete(today, HOME, confirmation)[0]


def reject(transfer: Transfer, side, reason_code: Any, today: date) -> Transfer:
    return transfer.reject(side, reason_code, today)[0]


# --- eligibility -------------------------------------------------------------------------------


def test_only_an_active_employee_enrollment_is_transferred():
    active = enrollment()
    assert domain.active_employee_enrollment([enrollment("390"), active], TODAY) is active
    with pytest.raises(NotActiveEmployee):
        domain.active_employee_enrollment([enrollment("390")], TODAY)
    with pytest.raises(NotActiveEmployee):
        domain.active_employee_enrollment([enrollment(end=date(2026, 10, 31))], TODAY)
    with pytest.raises(NotActiveEmployee):
        domain.active_employee_enrollment([enrollment(start=date(2027, 1, 1))], TODAY)
    with pytest.raises(NotActiveEmployee):
        domain.active_employee_enrollment([], TODAY)
    assert isinstance(NotActiveEmployee("x"), Rejected)


@pytest.mark.parametrize("to_region", [QINGDAO, SHINAN])
def test_no_transfer_to_the_own_pooling_region(to_region):
    with pytest.raises(domain.InvalidField) as refused:
        requested(to_region)
    assert refused.value.extensions["errors"][0]["field"] == "to_region"


def test_no_second_open_transfer():
    open_one = requested(SUZHOU)
    with pytest.raises(TransferOpen) as refused:
        Transfer.request("t-2", enrollment(), open_one, JINAN, TODAY, [])
    assert isinstance(refused.value, Conflict)
    assert refused.value.extensions["transfer_id"] == "t-1"


# --- within the province ------------------------------------------------------------------------


def test_within_the_province_it_completes_at_once():
    transfer = requested(JINAN)
    assert transfer.status == "completed"
    assert not transfer.cross_province
    assert (transfer.from_region, transfer.to_region) == (QINGDAO, JINAN)
    assert transfer.completed_on == TODAY
    assert transfer.contribution_months == 3
    assert transfer.account_balance_fen is None  # the ledger moves what it holds and reports it
    assert not transfer.is_open


def test_a_completed_transfer_within_the_province_takes_no_more_steps():
    transfer = requested(JINAN)
    with pytest.raises(WrongState):
        confirm_out(transfer, CONTRIBUTIONS, TODAY)
    with pytest.raises(WrongState):
        complete(transfer, TODAY)
    with pytest.raises(WrongState):
        reject(transfer, "in_region", "documents_incomplete", TODAY)


# --- across provinces -----------------------------------------------------------------------------


def test_across_provinces_it_walks_requested_out_confirmed_completed():
    transfer = requested(SUZHOU)
    assert (transfer.status, transfer.cross_province, transfer.is_open) == ("requested", True, True)
    assert transfer.contribution_months is None and transfer.completed_on is None

    with pytest.raises(WrongState):
        complete(transfer, TODAY)  # the out-region confirms first

    confirmed = confirm_out(transfer, CONTRIBUTIONS, date(2026, 11, 23))
    assert confirmed.status == "out_confirmed" and confirmed.is_open
    assert confirmed.contribution_months == 3
    assert confirmed.account_balance_fen is None
    assert confirmed.out_confirmed_on == date(2026, 11, 23)
    with pytest.raises(WrongState):
        confirm_out(confirmed, CONTRIBUTIONS, TODAY)

    done = complete(confirmed, date(2026, 11, 25))
    assert done.status == "completed" and not done.is_open
    assert done.completed_on == date(2026, 11, 25)
    assert done.account_balance_fen is None  # out of the province: the ledger reports it
    assert done.confirmed_balance_fen is None and done.platform_reference is None


def test_the_out_region_states_no_balance():
    with pytest.raises(NotYoursToState) as refused:
        confirm_out(requested(), CONTRIBUTIONS, TODAY, stated_balance_fen=25050)
    assert isinstance(refused.value, NotPermitted)
    assert domain_problem(refused.value)[0] == 403
    assert refused.value.extensions["reason"] == "balance_not_yours_to_state"
    from_suzhou = Transfer.request(
        "t-9", enrollment(region=SUZHOU), None, QINGDAO, TODAY, CONTRIBUTIONS
    )[0]
    with pytest.raises(NotYoursToState):  # nor the other province's, into this one
        confirm_out(from_suzhou, CONTRIBUTIONS, TODAY, stated_balance_fen=0)


def test_out_of_the_province_the_completion_states_no_balance():
    confirmed = confirm_out(requested(SUZHOU), CONTRIBUTIONS, TODAY)
    with pytest.raises(NotYoursToState):
        complete(confirmed, TODAY, CONFIRMED)
    assert complete(confirmed, TODAY).status == "completed"


def test_into_the_province_the_completion_takes_the_platforms_confirmation():
    done = complete(into_qingdao(), TODAY, CONFIRMED)
    assert (done.status, done.from_region, done.to_region) == ("completed", SUZHOU, QINGDAO)
    assert (done.confirmed_balance_fen, done.platform_reference, done.confirmed_by) == (
        25050,
        "ZY2026112200001",
        "staff-qd-1",
    )
    assert done.account_balance_fen is None  # until the ledger reports the movement
    with pytest.raises(domain.InvalidField) as refused:
        complete(into_qingdao(), TODAY)
    assert refused.value.extensions["errors"][0]["field"] == "account_balance_fen"


@pytest.mark.parametrize(
    ("balance", "accepted"),
    [(0, True), (MAX_TRANSFER_IN_FEN, True), (MAX_TRANSFER_IN_FEN + 1, False), (10**12, False)],
)
def test_a_transfer_in_is_bounded_by_the_policy(balance, accepted):
    confirmation = PlatformConfirmation(balance, "ZY2026112200001", "staff-qd-1")
    if accepted:
        assert complete(into_qingdao(), TODAY, confirmation).confirmed_balance_fen == balance
    else:
        with pytest.raises(domain.InvalidField):
            complete(into_qingdao(), TODAY, confirmation)


@pytest.mark.parametrize(
    ("from_region", "to_region", "into"),
    [
        (SUZHOU, QINGDAO, True),
        (QINGDAO, SUZHOU, False),
        (QINGDAO, JINAN, False),
        (SUZHOU, "330100", False),
    ],
)
def test_into_the_province(from_region, to_region, into):
    assert domain.into_province(from_region, to_region, HOME) is into


def test_the_out_region_rejects_while_requested():
    rejected = reject(requested(), "out_region", "arrears_unpaid", TODAY)
    assert (rejected.status, rejected.rejected_by, rejected.reason_code) == (
        "rejected",
        "out_region",
        "arrears_unpaid",
    )
    assert not rejected.is_open
    with pytest.raises(WrongState):
        confirm_out(rejected, CONTRIBUTIONS, TODAY)


def test_the_in_region_rejects_once_out_confirmed_and_not_before():
    transfer = requested()
    with pytest.raises(WrongState):
        reject(transfer, "in_region", "no_employer_in_region", TODAY)
    confirmed = confirm_out(transfer, CONTRIBUTIONS, TODAY)
    with pytest.raises(WrongState):
        reject(confirmed, "out_region", "documents_incomplete", TODAY)
    rejected = reject(confirmed, "in_region", "no_employer_in_region", TODAY)
    assert (rejected.status, rejected.rejected_by) == ("rejected", "in_region")
    with pytest.raises(WrongState):
        complete(rejected, TODAY)


def test_a_rejection_needs_a_reason_of_the_closed_list():
    with pytest.raises(domain.InvalidField):
        reject(requested(), "out_region", "   ", TODAY)
    with pytest.raises(domain.InvalidField):
        reject(requested(), "out_region", "存在欠缴月份，需补缴后再办理", TODAY)


def test_a_closed_transfer_does_not_block_a_new_one():
    closed = reject(requested(), "out_region", "documents_incomplete", TODAY)
    assert Transfer.request("t-2", enrollment(), None, JINAN, TODAY, [])[0].status == ("completed")
    assert not closed.is_open


# --- what moves ----------------------------------------------------------------------------------


def test_contribution_months_are_distinct_months():
    assert (
        domain.contribution_months(
            [paid("202610"), replace(paid("202610"), payment_id="x"), paid("202611")]
        )
        == 2
    )
    assert domain.contribution_months([]) == 0


def test_no_balance_is_counted_from_the_contributions():
    """The transfer service has no allocation rule any more: what moves is the ledger's."""
    transfer = requested(JINAN)
    assert transfer.account_balance_fen is None
    assert not hasattr(domain, "account_balance_fen")
