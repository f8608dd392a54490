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
from chs_transfer.model import Contribution, PlatformConfirmation, Transfer

pytestmark = pytest.mark.unit

QINGDAO, JINAN, SUZHOU = "370200", "370100", "320500"
TODAY = date(2026, 11, 22)
ENROLLMENT = Enrollment("en-1", "p1", "310", QINGDAO, date(2025, 1, 1), None)
CONTRIBUTIONS = [
    Contribution(f"pay-{period}", "en-1", period, 58500, 13000) for period in ("202609", "202610")
]
IDS = {"person_id": "p1", "transfer_id": "t-1", "enrollment_id": "en-1", "from_region": QINGDAO}


def request(to_region: str) -> tuple[Transfer, tuple]:
    return Transfer.request("t-1", ENROLLMENT, None, to_region, TODAY, CONTRIBUTIONS)


def test_within_the_province_requested_and_completed_at_once():
    transfer, events = request(JINAN)

    assert events == (
        TransferRequested(**IDS, to_region=JINAN, cross_province=False, requested_on=TODAY),
        TransferCompleted(
            **IDS,
            to_region=JINAN,
            cross_province=False,
            contribution_months=2,
            completed_on=TODAY,
        ),
    )
    assert transfer.status == "completed"


def test_across_provinces_each_step_raises_its_event():
    transfer, events = request(SUZHOU)
    assert events == (
        TransferRequested(**IDS, to_region=SUZHOU, cross_province=True, requested_on=TODAY),
    )

    confirmed, out_confirmed = transfer.confirm_out(CONTRIBUTIONS, date(2026, 11, 23))
    assert out_confirmed == TransferOutConfirmed(
        **IDS, to_region=SUZHOU, contribution_months=2, confirmed_on=date(2026, 11, 23)
    )
    assert out_confirmed.ce_type == "chs.transfer.out-confirmed.v2"

    done, completed = confirmed.complete(date(2026, 11, 25), "370000")
    assert completed == TransferCompleted(
        **IDS,
        to_region=SUZHOU,
        cross_province=True,
        contribution_months=2,
        completed_on=date(2026, 11, 25),
    )
    assert completed.confirmed_balance_fen is None and completed.platform_reference is None
    assert done.status == "completed" and transfer.status == "requested"


def test_a_transfer_into_the_province_carries_the_platforms_confirmation():
    enrolled_in_suzhou = Enrollment("en-1", "p1", "310", SUZHOU, date(2025, 1, 1), None)
    transfer, _ = Transfer.request("t-1", enrolled_in_suzhou, None, QINGDAO, TODAY, CONTRIBUTIONS)
    confirmed, _ = transfer.confirm_out(CONTRIBUTIONS, TODAY)
    _, completed = confirmed.complete(
        TODAY, "370000", PlatformConfirmation(9100, "ZY2026112200001", "staff-qd-1")
    )
    assert completed == TransferCompleted(
        **{**IDS, "from_region": SUZHOU},
        to_region=QINGDAO,
        cross_province=True,
        contribution_months=2,
        completed_on=TODAY,
        confirmed_balance_fen=9100,
        platform_reference="ZY2026112200001",
        confirmed_by="staff-qd-1",
    )
    assert completed.ce_type == "chs.transfer.completed.v2"


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
