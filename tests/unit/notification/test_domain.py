import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chs_events.events.notices import NoticeDelivered, NoticeSent
from chs_events.retry import Backoff
from chs_events.vocabulary import insutype_name
from chs_events.vocabulary import yuan as money
from chs_notification.domain import (
    CHS_TAG,
    ELDERLY_AGE,
    SENDER_IN_PROVINCE,
    SENDER_OUT_OF_PROVINCE,
    TERMINAL_STATUSES,
    TRANSITIONS,
    DeliveryEvent,
    InvalidTransition,
    MessageStatus,
    MissingParam,
    choose_sender,
    delivery_success_rate,
    next_status,
    render,
)
from chs_notification.model import Message, message_id_for
from chs_notification.settings import NotificationSettings
from chs_notification.templates import get_template

pytestmark = pytest.mark.unit

TERMINATED_PARAMS = {
    "name": "赵六",
    "insutype_name": "职工基本医疗保险",
    "end_date": "2024年6月30日",
    "reason": "已参加其他地区医保",
}


class TestRender:
    def test_elderly_variant_from_sixty(self) -> None:
        message = render(get_template("enrollment.terminated"), TERMINATED_PARAMS, age=ELDERLY_AGE)

        assert (
            message == "【中国医疗保障】2024年6月30日起，赵六的医保停了。原因：已参加其他地区医保。"
        )

    def test_standard_variant_at_fifty_nine(self) -> None:
        message = render(get_template("enrollment.terminated"), TERMINATED_PARAMS, age=59)

        assert message == (
            "【中国医疗保障】尊敬的赵六，您的职工基本医疗保险已于2024年6月30日终止参保，"
            "原因：已参加其他地区医保。如有疑问请咨询当地医保经办机构。"
        )

    def test_unknown_age_gets_the_standard_variant(self) -> None:
        template = get_template("enrollment.terminated")

        message = render(template, TERMINATED_PARAMS, age=None)

        assert message == CHS_TAG + template.text.format(**TERMINATED_PARAMS)

    def test_missing_params_are_named(self) -> None:
        params = {"name": "赵六", "insutype_name": "职工基本医疗保险"}

        with pytest.raises(MissingParam) as raised:
            render(get_template("enrollment.terminated"), params, age=40)

        assert isinstance(raised.value, KeyError)
        assert raised.value.missing == ("end_date", "reason")
        assert "end_date" in str(raised.value) and "reason" in str(raised.value)

    def test_a_param_only_the_standard_text_uses_is_still_required_for_the_elderly(self) -> None:
        params = {key: value for key, value in TERMINATED_PARAMS.items() if key != "insutype_name"}

        with pytest.raises(MissingParam, match="insutype_name"):
            render(get_template("enrollment.terminated"), params, age=80)

    def test_extra_params_are_ignored_and_integers_rendered(self) -> None:
        message = render(
            get_template("enrollment.contact_changed"),
            {"name": "孙七", "mobile_masked": "138****5678", "unused": 42},
            age=None,
        )

        assert message == (
            "【中国医疗保障】尊敬的孙七，您在医保登记的手机号已变更为138****5678。"
            "如非本人操作，请及时联系当地医保经办机构。"
        )

    def test_braces_in_values_are_not_interpreted(self) -> None:
        params = dict(TERMINATED_PARAMS, reason="{name}")

        message = render(get_template("enrollment.terminated"), params, age=65)

        assert message.endswith("原因：{name}。")


class TestChooseSender:
    def test_qingdao_mobile_gets_the_in_province_number(self) -> None:
        assert choose_sender("370000") == SENDER_IN_PROVINCE == "10639239"

    def test_jiangsu_mobile_gets_the_out_of_province_number(self) -> None:
        assert choose_sender("320000") == SENDER_OUT_OF_PROVINCE == "106575376196"

    def test_unknown_home_gets_the_out_of_province_number(self) -> None:
        assert choose_sender(None) == SENDER_OUT_OF_PROVINCE

    def test_home_province_is_a_parameter(self) -> None:
        assert choose_sender("320000", home_province="320000") == SENDER_IN_PROVINCE
        assert choose_sender("370000", home_province="320000") == SENDER_OUT_OF_PROVINCE


class TestMoney:
    @pytest.mark.parametrize(
        ("fen", "yuan"),
        [
            (0, "0.00"),
            (1, "0.01"),
            (100, "1.00"),
            (123456, "1234.56"),
            (-50, "-0.50"),
            (-123456, "-1234.56"),
        ],
    )
    def test_format_fen(self, fen: int, yuan: str) -> None:
        assert money(fen) == yuan

    @pytest.mark.parametrize("not_fen", [12.5, True, "100"])
    def test_format_fen_refuses_anything_but_integers(self, not_fen: object) -> None:
        with pytest.raises(TypeError):
            money(not_fen)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("310", "职工基本医疗保险"),
        ("390", "城乡居民基本医疗保险"),
        ("392", "392"),  # the platform's vocabulary names the basic insurances only
        ("999", "999"),
    ],
)
def test_insutype_name(code: str, name: str) -> None:
    assert insutype_name(code) == name


class TestMessageStatus:
    @pytest.mark.parametrize(
        ("current", "event", "expected"),
        [
            (MessageStatus.QUEUED, DeliveryEvent.GATEWAY_ACCEPTED, MessageStatus.SENT),
            (MessageStatus.QUEUED, DeliveryEvent.RETRIES_EXHAUSTED, MessageStatus.FAILED),
            (MessageStatus.QUEUED, DeliveryEvent.UNREACHABLE, MessageStatus.UNDELIVERABLE),
            (MessageStatus.SENT, DeliveryEvent.RECEIPT_DELIVERED, MessageStatus.DELIVERED),
            (MessageStatus.SENT, DeliveryEvent.RECEIPT_FAILED, MessageStatus.FAILED),
        ],
    )
    def test_legal_moves(
        self, current: MessageStatus, event: DeliveryEvent, expected: MessageStatus
    ) -> None:
        assert next_status(current, event) is expected

    @pytest.mark.parametrize(
        ("current", "event"),
        [
            (MessageStatus.QUEUED, DeliveryEvent.RECEIPT_DELIVERED),
            (MessageStatus.SENT, DeliveryEvent.GATEWAY_ACCEPTED),
            (MessageStatus.SENT, DeliveryEvent.UNREACHABLE),
        ],
    )
    def test_illegal_moves(self, current: MessageStatus, event: DeliveryEvent) -> None:
        with pytest.raises(InvalidTransition):
            next_status(current, event)

    @pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
    @pytest.mark.parametrize("event", list(DeliveryEvent))
    def test_terminal_statuses_never_move(
        self, terminal: MessageStatus, event: DeliveryEvent
    ) -> None:
        with pytest.raises(InvalidTransition):
            next_status(terminal, event)

    def test_nothing_leads_back_to_queued(self) -> None:
        assert MessageStatus.QUEUED not in TRANSITIONS.values()

    def test_terminal_statuses_are_exactly_those_without_moves(self) -> None:
        with_moves = {current for current, _ in TRANSITIONS}

        assert set(MessageStatus) - with_moves == TERMINAL_STATUSES


class TestSendBackoff:
    """The retries of a send: ``NotificationSettings.send_backoff`` (``chs_events.retry``)."""

    def test_defaults(self) -> None:
        assert NotificationSettings().send_backoff == Backoff(
            max_attempts=5, base_delay=0.5, max_delay=30
        )

    def test_delays_double_from_the_base(self) -> None:
        backoff = NotificationSettings().send_backoff

        assert [backoff.delay(attempt) for attempt in range(1, 6)] == [0.5, 1, 2, 4, 8]

    def test_delays_are_monotone_and_capped(self) -> None:
        backoff = NotificationSettings(send_max_attempts=50).send_backoff

        delays = [backoff.delay(attempt) for attempt in range(1, 51)]

        assert delays == sorted(delays)
        assert max(delays) == 30
        assert backoff.delay(10_000) == 30

    def test_retries_until_max_attempts(self) -> None:
        backoff = NotificationSettings().send_backoff

        assert [not backoff.exhausted(attempt) for attempt in range(1, 7)] == [
            True,
            True,
            True,
            True,
            False,
            False,
        ]

    def test_the_cap_is_never_below_the_base(self) -> None:
        backoff = NotificationSettings(send_retry_base_delay=5, send_retry_max_delay=1).send_backoff

        assert (backoff.delay(1), backoff.delay(3)) == (5, 5)

    @pytest.mark.parametrize(
        "kwargs",
        [{"send_max_attempts": 0}, {"send_retry_base_delay": 0}, {"send_retry_max_delay": 0}],
    )
    def test_inconsistent_settings_are_refused(self, kwargs: dict[str, float]) -> None:
        with pytest.raises(ValidationError):
            NotificationSettings(**kwargs)  # type: ignore[arg-type]


class TestMessage:
    AT = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)

    def message(self, status: MessageStatus = MessageStatus.QUEUED) -> Message:
        return Message(
            message_id_for("n-1"),
            "n-1",
            "p1",
            "enrollment.registered",
            str(uuid.uuid4()),
            "req-1",
            status,
        )

    def test_message_ids_derive_from_notice_ids(self) -> None:
        assert message_id_for("n-1") == message_id_for("n-1") != message_id_for("n-2")

    def test_a_send_moves_it_to_sent_and_announces_it(self) -> None:
        sent, event = self.message().move(
            DeliveryEvent.GATEWAY_ACCEPTED, self.AT, sender=SENDER_IN_PROVINCE
        )
        assert (sent.status, sent.final, sent.final_at) == (MessageStatus.SENT, False, None)
        assert isinstance(event, NoticeSent)
        assert (event.notice_id, event.message_id, event.status, event.sender, event.at) == (
            "n-1",
            str(message_id_for("n-1")),
            "sent",
            SENDER_IN_PROVINCE,
            self.AT,
        )

    def test_a_final_status_records_when(self) -> None:
        delivered, event = self.message(MessageStatus.SENT).move(
            DeliveryEvent.RECEIPT_DELIVERED, self.AT
        )
        assert (delivered.status, delivered.final, delivered.final_at) == (
            MessageStatus.DELIVERED,
            True,
            self.AT,
        )
        assert isinstance(event, NoticeDelivered)

    def test_a_move_its_status_does_not_allow_is_refused(self) -> None:
        with pytest.raises(InvalidTransition):
            self.message(MessageStatus.DELIVERED).move(DeliveryEvent.RECEIPT_FAILED, self.AT)


class TestDeliverySuccessRate:
    def test_field_figure(self) -> None:
        assert delivery_success_rate(965, 1000) == "96.5"

    def test_no_final_messages(self) -> None:
        assert delivery_success_rate(0, 0) == "n/a"

    def test_all_and_none_delivered(self) -> None:
        assert delivery_success_rate(7, 7) == "100.0"
        assert delivery_success_rate(0, 7) == "0.0"

    def test_never_rounds_up_to_full_success(self) -> None:
        assert delivery_success_rate(9999, 10000) == "99.9"

    def test_two_thirds(self) -> None:
        assert delivery_success_rate(2, 3) == "66.6"

    @pytest.mark.parametrize(("delivered", "total"), [(-1, 10), (11, 10)])
    def test_impossible_counts_are_refused(self, delivered: int, total: int) -> None:
        with pytest.raises(ValueError):
            delivery_success_rate(delivered, total)
