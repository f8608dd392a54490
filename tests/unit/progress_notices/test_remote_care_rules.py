"""Notices for remote-care results: filed (approved at once), revoked, expired."""

from datetime import date

import pytest

from chs_events.envelope import Envelope
from chs_events.events.notices import notice_id
from chs_events.events.remote_care import RemoteCareExpired, RemoteCareFiled, RemoteCareRevoked
from chs_progress_notices.rules import BUSINESS_PARAMS, DIRECTORY_PARAMS, notices_for

pytestmark = pytest.mark.unit

PERSON = "p" + "a" * 32
COMMON = {"person_id": PERSON, "filing_id": "f-1", "destination_region": "460200"}


def filed(**overrides) -> RemoteCareFiled:
    fields = dict(
        COMMON,
        filing_type="long_term",
        category="relocated_retiree",
        valid_from=date(2026, 11, 22),
        valid_until=None,
        home_region="370100",
        insutype="390",
        enrollment_id="en-1",
        filed_on=date(2026, 11, 22),
    )
    return RemoteCareFiled(**{**fields, **overrides})


def only(event):
    source = Envelope(event, source="/chs/remote-care")
    [notice] = notices_for(source)
    assert notice.person_id == PERSON
    assert notice.category == "business_result" and notice.priority == "high"
    assert notice.notice_id == notice_id(source.id, notice.template_id, PERSON)
    assert set(notice.params) == BUSINESS_PARAMS[notice.template_id]
    assert "name" in DIRECTORY_PARAMS[notice.template_id]
    return notice


def test_long_term_filed():
    notice = only(filed())
    assert notice.template_id == "remote_care.filed"
    assert notice.params == {
        "filing_type_name": "长期",
        "category_name": "异地安置退休",
        "destination_name": "三亚市",
        "validity": "自2026-11-22起长期有效",
    }


def test_back_dated_temporary_filed_reads_its_period():
    notice = only(
        filed(
            filing_type="temporary",
            category="emergency",
            destination_region="310000",
            valid_from=date(2026, 11, 10),
            valid_until=date(2027, 5, 9),
            admission_date=date(2026, 11, 10),
            back_dated=True,
        )
    )
    assert notice.params == {
        "filing_type_name": "临时",
        "category_name": "急诊抢救",
        "destination_name": "上海市",
        "validity": "2026-11-10至2027-05-09",
    }


def test_revoked():
    notice = only(
        RemoteCareRevoked(
            **COMMON,
            filing_type="long_term",
            category="stationed_worker",
            valid_from=date(2026, 1, 1),
            valid_until=None,
            revoked_on=date(2026, 11, 22),
            reason="回参保地",
        )
    )
    assert notice.template_id == "remote_care.revoked"
    assert notice.params == {
        "destination_name": "三亚市",
        "category_name": "常驻异地工作",
        "revoked_on": "2026-11-22",
    }


def test_expired():
    notice = only(
        RemoteCareExpired(
            **COMMON,
            filing_type="temporary",
            category="referral",
            valid_from=date(2026, 5, 1),
            valid_until=date(2026, 10, 31),
        )
    )
    assert notice.template_id == "remote_care.expired"
    assert notice.params == {
        "destination_name": "三亚市",
        "category_name": "转诊转院",
        "valid_until": "2026-10-31",
    }


def test_params_are_exactly_the_templates_params_and_both_variants_render():
    templates = pytest.importorskip("chs_notification.templates")
    from chs_notification.domain import CHS_TAG, render

    for template_id in ("remote_care.filed", "remote_care.revoked", "remote_care.expired"):
        template = templates.get_template(template_id)
        assert BUSINESS_PARAMS[template_id] | DIRECTORY_PARAMS[template_id] == set(template.params)
        assert template.business_area == "remote_care"
        assert len(template.elderly_text) < len(template.text)
        params = {name: f"<{name}>" for name in template.params}
        for age in (30, 75):
            message = render(template, params, age=age)
            assert message.startswith(CHS_TAG) and "{" not in message
