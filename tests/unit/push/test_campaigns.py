"""The campaign aggregate's transitions (each returns the campaign as it now is and its event),
its notices' ids, the template contract with notification, the params' formats and the
fan-out's pace."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chs_events.envelope import Envelope
from chs_events.errors import InvalidField
from chs_events.events.notices import notice_id
from chs_events.events.push import (
    CAMPAIGN_TEMPLATES,
    CampaignCancelled,
    CampaignCompleted,
    CampaignPublished,
    CampaignStarted,
)
from chs_events.topics import BY_NAME, PUSH_CAMPAIGNS
from chs_notification.domain import DIRECTORY_PARAMS
from chs_notification.templates import TEMPLATES
from chs_push import domain
from chs_push.domain import CampaignNotChangeable, Pace
from chs_push.model import Campaign
from chs_push.rules.segments import Segment
from chs_push.rules.triggers import load_triggers

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def draft(**changes) -> Campaign:
    campaign = Campaign(
        campaign_id="cmp-1",
        template_id="chronic.hypertension_policy",
        kind="push",
        segment=Segment(region_prefix="3702", elderly=True, conditions=["hypertension"]),
        params={},
        region="370200",
        purpose="高血压政策宣传",
        created_by="agency-qingdao",
        created_at=AT,
    )
    return replace(campaign, **changes)


def test_a_draft_is_published_then_started_fanned_out_and_completed():
    published, event = draft().publish(AT)
    assert published.status == "published" and published.published_at == AT
    assert isinstance(event, CampaignPublished)
    assert event.campaign_id == "cmp-1" and event.person_id == "cmp-1"
    assert event.segment == {
        "region_prefix": "3702",
        "elderly": True,
        "conditions": ["hypertension"],
        "enrolled_only": True,
    }
    assert (event.template_id, event.kind, event.region, event.created_by) == (
        "chronic.hypertension_policy",
        "push",
        "370200",
        "agency-qingdao",
    )
    assert "purpose" not in event.model_dump()  # kept for audit, never sent
    started, begun = published.start(AT, date(2026, 11, 20))
    assert (started.status, started.as_of) == ("running", date(2026, 11, 20))
    assert isinstance(begun, CampaignStarted)
    paged = started.fanned_out("p100", 500).fanned_out("p200", 300)
    assert (paged.cursor, paged.targeted) == ("p200", 800)
    completed, done = paged.complete(AT)
    assert completed.status == "completed"
    assert isinstance(done, CampaignCompleted) and done.targeted == 800


def test_a_scheduled_campaign_starts_only_at_its_time():
    published, _ = draft(send_at=AT + timedelta(hours=2)).publish(AT)
    assert not published.due(AT)
    with pytest.raises(CampaignNotChangeable):
        published.start(AT, date(2026, 11, 20))
    assert published.due(AT + timedelta(hours=2))
    assert published.start(AT + timedelta(hours=2), date(2026, 11, 20))[0].status == "running"


@pytest.mark.parametrize("status", ["draft", "published", "running"])
def test_a_campaign_is_cancelled_from_draft_published_or_running(status):
    cancelled, event = draft(status=status, targeted=7).cancel("agency-qingdao", AT)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "agency-qingdao")
    assert isinstance(event, CampaignCancelled) and event.targeted == 7


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_finished_campaign_is_not_cancelled_published_or_fanned_out(status):
    campaign = draft(status=status)
    for change in (
        lambda: campaign.cancel("x", AT),
        lambda: campaign.publish(AT),
        lambda: campaign.fanned_out("p", 1),
        lambda: campaign.complete(AT),
    ):
        with pytest.raises(CampaignNotChangeable) as refused:
            change()
        assert refused.value.extensions["status_now"] == status


def test_only_a_draft_is_published():
    with pytest.raises(CampaignNotChangeable):
        draft(status="published").publish(AT)


def test_the_notice_id_is_the_campaign_s_template_s_and_person_s():
    first = domain.campaign_notice_id("cmp-1", "chronic.hypertension_policy", "p1")
    assert first == domain.campaign_notice_id("cmp-1", "chronic.hypertension_policy", "p1")
    assert first == notice_id("cmp-1", "chronic.hypertension_policy", "p1")
    assert first != domain.campaign_notice_id("cmp-2", "chronic.hypertension_policy", "p1")
    assert first != domain.campaign_notice_id("cmp-1", "chronic.hypertension_policy", "p2")


def test_the_campaign_templates_are_push_or_broadcast_templates_of_the_registry():
    assert CAMPAIGN_TEMPLATES
    for template_id, allowed in CAMPAIGN_TEMPLATES.items():
        template = TEMPLATES[template_id]
        assert template.category.value == allowed.category
        assert set(allowed.params) == set(template.params) - DIRECTORY_PARAMS
    sent_by_rules = {rule.template_id for rule in load_triggers().rules}
    for template_id, template in TEMPLATES.items():
        if template.category.value in ("push", "broadcast"):
            # the recommendation names a condition only a rule knows: no campaign's
            assert template_id in CAMPAIGN_TEMPLATES or template_id in sent_by_rules, template_id


def test_a_campaign_s_params_are_those_the_template_takes_each_of_its_format():
    contribution = "general.resident_contribution_period"
    given = {"year": "2027", "deadline": "2026年12月31日"}
    assert domain.checked_params(contribution, given) == given
    assert domain.kind_of(contribution) == "broadcast"
    for wrong in (
        {"year": "2027"},
        {**given, "note": "x"},
        {**given, "deadline": "请回复您的身份证号"},
        {**given, "year": "27"},
    ):
        with pytest.raises(InvalidField) as refused:
            domain.checked_params(contribution, wrong)
        assert refused.value.extensions["errors"][0]["field"] == "params"
    with pytest.raises(InvalidField):
        domain.checked_params("chronic.hypertension_policy", {"name": "张三"})
    with pytest.raises(InvalidField) as unknown:
        domain.campaign_template("enrollment.registered")  # a service message's template
    assert unknown.value.extensions["errors"][0]["field"] == "template_id"


@pytest.mark.parametrize(
    ("prefix", "region"), [("37", "370000"), ("3702", "370200"), ("370203", "370203")]
)
def test_a_region_prefix_and_its_code(prefix, region):
    assert domain.region_of(prefix) == region
    assert domain.prefix_of(region) == prefix


def test_the_pace_waits_until_the_notices_written_fit_the_rate():
    pace = Pace(200.0)
    assert pace.wait(0, 0.0) == 0.0
    assert pace.wait(200, 0.25) == pytest.approx(0.75)  # 200 written: a second's worth
    assert pace.wait(500, 3.0) == 0.0  # behind the pace: no wait
    assert pace.wait(1000, 4.5) == pytest.approx(0.5)
    assert pace.page_size(500) == 200  # a page is at most a second's notices
    assert Pace(5000.0).page_size(500) == 500
    assert Pace(0.5).page_size(500) == 1


def test_the_campaign_topic_is_keyed_by_the_campaign_id():
    spec = BY_NAME[PUSH_CAMPAIGNS]
    assert (spec.producer, spec.consumers, spec.key, spec.partitions) == (
        "push",
        ("push",),
        "campaign_id",
        1,
    )
    _, event = draft().publish(AT)
    record = Envelope(event, source="/chs/push").to_record()
    assert record.key == b"cmp-1"
    parsed = Envelope.from_record(record.key, record.value, record.headers).event
    assert parsed == event and isinstance(parsed, CampaignPublished)
    assert b'"campaign_id"' in record.value and b"person_id" not in record.value
