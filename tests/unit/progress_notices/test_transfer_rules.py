"""Notices of the relationship-transfer business area (关系转移接续)."""

from datetime import date

import pytest

from chs_events.envelope import Envelope
from chs_events.events.enrollment import PoolingRegionChanged
from chs_events.events.notices import notice_id
from chs_events.events.transfer import (
    TRANSFER_REJECTION_REASONS,
    TransferCompleted,
    TransferOutConfirmed,
    TransferRejected,
    TransferRequested,
)
from chs_events.topics import TRANSFER_EVENTS
from chs_progress_notices.rules import (
    BUSINESS_PARAMS,
    DIRECTORY_PARAMS,
    SOURCE_TOPICS,
    SOURCE_TYPES,
    notices_for,
)

pytestmark = pytest.mark.unit

PERSON = "p" + "a" * 32
IDS = {"person_id": PERSON, "transfer_id": "t-1", "enrollment_id": "en-1"}
QINGDAO_TO_SUZHOU = dict(IDS, from_region="370200", to_region="320500")


def envelope(event) -> Envelope:
    return Envelope(event, source="/chs/transfer")


def only(notices):
    assert len(notices) == 1
    return notices[0]


def test_the_processor_reads_the_transfer_topic():
    assert TRANSFER_EVENTS in SOURCE_TOPICS
    assert {
        "chs.transfer.requested.v1",
        "chs.transfer.out-confirmed.v2",
        "chs.transfer.completed.v2",
        "chs.transfer.rejected.v2",
    } <= SOURCE_TYPES


def test_cross_province_request_is_told():
    source = envelope(
        TransferRequested(**QINGDAO_TO_SUZHOU, cross_province=True, requested_on=date(2026, 11, 22))
    )
    notice = only(notices_for(source))
    assert notice.person_id == PERSON
    assert notice.template_id == "transfer.requested"
    assert notice.params == {
        "insutype_name": "职工基本医疗保险",
        "from_region_name": "青岛市",
        "to_region_name": "苏州市",
    }
    assert notice.category == "business_result" and notice.priority == "high"
    assert notice.notice_id == notice_id(source.id, "transfer.requested", PERSON)


def test_within_the_province_only_the_completion_is_told():
    event = TransferRequested(
        **IDS,
        from_region="370200",
        to_region="370100",
        cross_province=False,
        requested_on=date(2026, 11, 22),
    )
    assert notices_for(envelope(event)) == []


def test_out_confirmation_tells_the_months_not_a_balance():
    """The ledger moves what it holds at the completion; the account's notice tells it."""
    notice = only(
        notices_for(
            envelope(
                TransferOutConfirmed(
                    **QINGDAO_TO_SUZHOU, contribution_months=14, confirmed_on=date(2026, 11, 23)
                )
            )
        )
    )
    assert notice.template_id == "transfer.out_confirmed"
    assert notice.params == {
        "from_region_name": "青岛市",
        "to_region_name": "苏州市",
        "contribution_months": "14",
    }


def test_completion():
    notice = only(
        notices_for(
            envelope(
                TransferCompleted(
                    **IDS,
                    from_region="370200",
                    to_region="370100",
                    cross_province=False,
                    contribution_months=3,
                    completed_on=date(2026, 11, 22),
                )
            )
        )
    )
    assert notice.template_id == "transfer.completed"
    assert notice.params == {
        "insutype_name": "职工基本医疗保险",
        "from_region_name": "青岛市",
        "to_region_name": "济南市",
        "completed_on": "2026-11-22",
    }


def test_rejection_tells_the_reason():
    notice = only(
        notices_for(
            envelope(
                TransferRejected(
                    **QINGDAO_TO_SUZHOU,
                    rejected_by="out_region",
                    reason_code="arrears_unpaid",
                    rejected_on=date(2026, 11, 23),
                )
            )
        )
    )
    assert notice.template_id == "transfer.rejected"
    assert notice.params == {
        "from_region_name": "青岛市",
        "to_region_name": "苏州市",
        "reason": "存在欠缴月份，需补缴后再办理",
    }


@pytest.mark.parametrize("code", sorted(TRANSFER_REJECTION_REASONS))
def test_every_rejection_code_is_told_by_its_text(code):
    event = TransferRejected(
        **QINGDAO_TO_SUZHOU,
        rejected_by="in_region",
        reason_code=code,
        rejected_on=date(2026, 11, 23),
    )
    assert only(notices_for(envelope(event))).params["reason"] == TRANSFER_REJECTION_REASONS[code]


def test_a_rejection_carries_no_free_text():
    with pytest.raises(ValueError):
        TransferRejected(
            **QINGDAO_TO_SUZHOU,
            rejected_by="in_region",
            reason_code="请拨打 400-000-0000 办理",
            rejected_on=date(2026, 11, 23),
        )


def test_pooling_region_changed_asks_for_no_notice():
    event = PoolingRegionChanged(
        person_id=PERSON,
        enrollment_id="en-1",
        insutype="310",
        from_region="370200",
        to_region="370100",
        changed_on=date(2026, 11, 22),
        transfer_id="t-1",
    )
    assert notices_for(envelope(event)) == []


@pytest.mark.parametrize(
    "template_id",
    ["transfer.requested", "transfer.out_confirmed", "transfer.completed", "transfer.rejected"],
)
def test_params_are_exactly_the_templates_params(template_id):
    templates = pytest.importorskip("chs_notification.templates")
    from chs_notification.domain import render

    template = templates.get_template(template_id)
    declared = set(template.params)
    assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == declared
    assert DIRECTORY_PARAMS[template_id] == {"name"}
    params = {name: f"<{name}>" for name in declared}
    for age in (30, 75):
        message = render(template, params, age=age)
        assert message.startswith("【中国医疗保障】") and "{" not in message
    assert len(template.elderly_text) < len(template.text)
