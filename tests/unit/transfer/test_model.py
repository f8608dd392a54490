"""The events a transfer's steps raise (``model.Transfer``'s methods). No I/O."""

from datetime import date

import pytest

from chs_events.events.transfer import (
    TransferCompleted,
    TransferOutConfirmed,
    TransferRejected,
    TransferRequested,
)
from chs_events.read_models.enrollments import Enrollment
from chs_transfer.model import AllocationRule, Contribution, Transfer

pytestmark = pytest.mark.unit

QINGDAO, JINAN, SUZHOU = "370200", "370100", "320500"
TODAY = date(2026, 11, 22)
ENROLLMENT = Enrollment("en-1", "p1", "310", QINGDAO, date(2025, 1, 1), None)
CONTRIBUTIONS = [
    Contribution(f"pay-{period}", "en-1", period, 58500, 13000) for period in ("202609", "202610")
]
IDS = {"person_id": "p1", "transfer_id": "t-1", "enrollment_id": "en-1", "from_region": QINGDAO}


def request(to_region: str) -> tuple[Transfer, tuple]:
    return Transfer.request(
        "t-1", ENROLLMENT, None, to_region, TODAY, CONTRIBUTIONS, AllocationRule()
    )


def test_within_the_province_requested_and_completed_at_once():
    transfer, events = request(JINAN)

    assert events == (
        TransferRequested(**IDS, to_region=JINAN, cross_province=False, requested_on=TODAY),
        TransferCompleted(
            **IDS,
            to_region=JINAN,
            cross_province=False,
            contribution_months=2,
            account_balance_fen=26000,
            completed_on=TODAY,
        ),
    )
    assert transfer.status == "completed"


def test_across_provinces_each_step_raises_its_event():
    transfer, events = request(SUZHOU)
    assert events == (
        TransferRequested(**IDS, to_region=SUZHOU, cross_province=True, requested_on=TODAY),
    )

    confirmed, out_confirmed = transfer.confirm_out(
        CONTRIBUTIONS, AllocationRule(), date(2026, 11, 23), 25050
    )
    assert out_confirmed == TransferOutConfirmed(
        **IDS,
        to_region=SUZHOU,
        contribution_months=2,
        account_balance_fen=25050,
        confirmed_on=date(2026, 11, 23),
    )

    done, completed = confirmed.complete(date(2026, 11, 25))
    assert completed == TransferCompleted(
        **IDS,
        to_region=SUZHOU,
        cross_province=True,
        contribution_months=2,
        account_balance_fen=25050,
        completed_on=date(2026, 11, 25),
    )
    assert done.status == "completed" and transfer.status == "requested"


def test_a_rejection_raises_transfer_rejected_with_the_reason_code():
    transfer, _ = request(SUZHOU)

    rejected, event = transfer.reject("out_region", "arrears_unpaid", TODAY)

    assert event == TransferRejected(
        **IDS,
        to_region=SUZHOU,
        rejected_by="out_region",
        reason_code="arrears_unpaid",
        rejected_on=TODAY,
    )
    assert rejected.reason_code == "arrears_unpaid"
