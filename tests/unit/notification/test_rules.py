"""The rules of each SMS category, as data (``chs_notification/data/category_rules.json``) and
as the decision they make: the time is always given, nothing sleeps."""

from datetime import datetime, time

import pytest

from chs_events.events.notices import NoticeCapped, NoticeOptedOut
from chs_events.vocabulary import CHINA
from chs_notification.domain import (
    TERMINAL_STATUSES,
    DeliveryEvent,
    InvalidTransition,
    MessageStatus,
    next_status,
)
from chs_notification.model import STATUS_EVENTS
from chs_notification.rules import (
    RULES,
    Cap,
    Counts,
    Decision,
    Outcome,
    decide,
    load_rules,
    rules_of,
)
from chs_notification.templates import TEMPLATES, BusinessArea, Category, Template

pytestmark = pytest.mark.unit


def at(hour: int, minute: int = 0, day: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA)


NONE_YET = Counts(day=0, month=0)


class TestTheData:
    def test_quiet_hours_are_21_to_8_in_shanghai(self) -> None:
        quiet = RULES.quiet_hours
        assert (quiet.start, quiet.end, quiet.zone) == (time(21), time(8), CHINA)

    def test_business_results_and_account_notices_are_service_messages(self) -> None:
        assert {c for c, rule in RULES.categories.items() if rule.service} == {
            "business_result",
            "account",
        }

    def test_the_caps(self) -> None:
        assert RULES.rule("push").cap == Cap(per_day=2, per_month=8)
        assert RULES.rule("broadcast").cap == Cap(per_day=1, per_month=4)

    def test_every_category_has_its_rule(self) -> None:
        assert set(RULES.categories) == {category.value for category in Category}

    def test_the_opt_out_wording(self) -> None:
        assert RULES.opt_out_wording == "回TD退订"

    def test_loading_again_gives_the_same_rules(self) -> None:
        assert load_rules() == RULES

    def test_a_cap_must_be_positive_and_the_day_within_the_month(self) -> None:
        data = {
            "zone": "Asia/Shanghai",
            "quiet_hours": {"start": "21:00", "end": "08:00"},
            "opt_out_wording": "回TD退订",
            "categories": {"push": {"service": False, "per_day": 9, "per_month": 8}},
        }
        with pytest.raises(ValueError, match="push"):
            rules_of(data)


class TestQuietHours:
    @pytest.mark.parametrize(
        ("hour", "minute", "quiet"),
        [
            (20, 59, False),
            (21, 0, True),
            (23, 59, True),
            (0, 0, True),
            (7, 59, True),
            (8, 0, False),
        ],
    )
    def test_from_21_until_8(self, hour: int, minute: int, quiet: bool) -> None:
        assert RULES.quiet_hours.contains(at(hour, minute)) is quiet

    def test_a_moment_in_another_zone_is_taken_in_shanghai(self) -> None:
        # 13:30 UTC is 21:30 in Shanghai
        assert RULES.quiet_hours.contains(datetime.fromisoformat("2026-03-10T13:30:00+00:00"))

    def test_the_evening_waits_for_the_next_morning(self) -> None:
        assert RULES.quiet_hours.end_after(at(22)) == at(8, day=11)

    def test_the_night_waits_for_the_same_morning(self) -> None:
        assert RULES.quiet_hours.end_after(at(3)) == at(8)

    def test_the_last_night_of_a_month_waits_for_the_first_of_the_next(self) -> None:
        assert RULES.quiet_hours.end_after(at(23, day=31)) == at(8, day=1, month=4)


class TestDecide:
    @pytest.mark.parametrize("category", ["business_result", "account"])
    def test_a_service_message_always_goes(self, category: str) -> None:
        decision = decide(RULES, category, at(23), opted_out=True, counts=Counts(99, 99))

        assert decision == Decision(Outcome.SEND)

    @pytest.mark.parametrize("category", ["push", "broadcast"])
    def test_a_person_who_opted_out_gets_none(self, category: str) -> None:
        decision = decide(RULES, category, at(10), opted_out=True, counts=NONE_YET)

        assert decision.outcome is Outcome.OPTED_OUT
        assert decision.reason == f"opted out of {category} messages"

    def test_a_push_in_the_day_goes(self) -> None:
        assert decide(RULES, "push", at(10), opted_out=False, counts=NONE_YET) == Decision(
            Outcome.SEND
        )

    def test_a_push_at_22_waits_until_8_the_next_morning(self) -> None:
        decision = decide(RULES, "push", at(22), opted_out=False, counts=NONE_YET)

        assert decision == Decision(Outcome.DEFER, not_before=at(8, day=11))

    def test_two_pushes_a_day_then_capped(self) -> None:
        second = decide(RULES, "push", at(10), opted_out=False, counts=Counts(day=1, month=1))
        third = decide(RULES, "push", at(10), opted_out=False, counts=Counts(day=2, month=2))

        assert second.outcome is Outcome.SEND
        assert third.outcome is Outcome.CAPPED
        assert third.reason == "2 push messages a day already on 2026-03-10"

    def test_eight_pushes_a_month_then_capped(self) -> None:
        decision = decide(RULES, "push", at(10), opted_out=False, counts=Counts(day=0, month=8))

        assert decision.outcome is Outcome.CAPPED
        assert decision.reason == "8 push messages a month already in 2026-03"

    def test_one_broadcast_a_day(self) -> None:
        decision = decide(RULES, "broadcast", at(10), opted_out=False, counts=Counts(1, 1))

        assert decision.outcome is Outcome.CAPPED

    def test_a_deferred_push_counts_in_the_day_it_goes_out(self) -> None:
        decision = decide(RULES, "push", at(22), opted_out=False, counts=Counts(day=2, month=2))

        assert decision.reason == "2 push messages a day already on 2026-03-11"

    def test_the_opt_out_comes_before_the_cap(self) -> None:
        decision = decide(RULES, "push", at(10), opted_out=True, counts=Counts(9, 9))

        assert decision.outcome is Outcome.OPTED_OUT

    def test_without_counts_the_cap_is_not_checked(self) -> None:
        # the dispatcher's recheck: counted when it was queued
        assert decide(RULES, "push", at(10), opted_out=False).outcome is Outcome.SEND

    def test_an_unknown_category_has_no_rule(self) -> None:
        with pytest.raises(LookupError, match="sms"):
            decide(RULES, "sms", at(10), opted_out=False)


class TestStatuses:
    def test_a_queued_message_may_end_opted_out_or_capped(self) -> None:
        queued = MessageStatus.QUEUED
        assert next_status(queued, DeliveryEvent.PERSON_OPTED_OUT) is MessageStatus.OPTED_OUT
        assert next_status(queued, DeliveryEvent.OVER_CAP) is MessageStatus.CAPPED

    def test_both_are_final(self) -> None:
        assert {MessageStatus.OPTED_OUT, MessageStatus.CAPPED} <= TERMINAL_STATUSES
        with pytest.raises(InvalidTransition):
            next_status(MessageStatus.OPTED_OUT, DeliveryEvent.GATEWAY_ACCEPTED)

    def test_a_sent_message_is_not_ruled_out(self) -> None:
        with pytest.raises(InvalidTransition):
            next_status(MessageStatus.SENT, DeliveryEvent.PERSON_OPTED_OUT)

    def test_each_is_announced(self) -> None:
        assert STATUS_EVENTS[MessageStatus.OPTED_OUT] is NoticeOptedOut
        assert STATUS_EVENTS[MessageStatus.CAPPED] is NoticeCapped


class TestOptOutWording:
    PUSH_TEMPLATES = sorted(
        t.template_id for t in TEMPLATES.values() if not RULES.is_service(t.category)
    )

    def test_the_registry_has_push_and_broadcast_templates(self) -> None:
        assert TEMPLATES["chronic.hypertension_policy"].category is Category.PUSH
        assert TEMPLATES["general.resident_contribution_period"].category is Category.BROADCAST

    @pytest.mark.parametrize("template_id", PUSH_TEMPLATES)
    def test_every_push_and_broadcast_text_ends_with_it(self, template_id: str) -> None:
        template = TEMPLATES[template_id]

        assert template.text.endswith("回TD退订") and template.elderly_text.endswith("回TD退订")

    @pytest.mark.parametrize(
        ("text", "elderly_text"),
        [
            ("尊敬的{name}，请按时缴费。", "{name}，请缴费。回TD退订"),
            ("请按时缴费。回TD退订", "请缴费。"),
        ],
    )
    @pytest.mark.parametrize("category", [Category.PUSH, Category.BROADCAST])
    def test_a_push_or_broadcast_without_it_is_rejected(
        self, text: str, elderly_text: str, category: Category
    ) -> None:
        with pytest.raises(ValueError, match="回TD退订"):
            Template(
                template_id="general.reminder",
                category=category,
                business_area=BusinessArea.GENERAL,
                text=text,
                elderly_text=elderly_text,
                params=("name",) if "{name}" in text + elderly_text else (),
            )

    def test_a_service_message_needs_none(self) -> None:
        Template(
            template_id="general.reminder",
            category=Category.BUSINESS_RESULT,
            business_area=BusinessArea.GENERAL,
            text="您的业务已办结。",
            elderly_text="办好了。",
            params=(),
        )
