import pytest

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
    RetryPolicy,
    choose_sender,
    delivery_success_rate,
    format_fen,
    insutype_name,
    next_status,
    render,
)
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

        assert message == "【中国医疗保障】2024年6月30日起，赵六的医保停了。原因：已参加其他地区医保。"

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
        assert format_fen(fen) == yuan

    @pytest.mark.parametrize("not_fen", [12.5, True, "100"])
    def test_format_fen_refuses_anything_but_integers(self, not_fen: object) -> None:
        with pytest.raises(TypeError):
            format_fen(not_fen)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("310", "职工基本医疗保险"),
        ("390", "城乡居民基本医疗保险"),
        ("392", "城乡居民大病保险"),
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

        assert TERMINAL_STATUSES == set(MessageStatus) - with_moves


class TestRetryPolicy:
    def test_defaults(self) -> None:
        assert RetryPolicy() == RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=30)

    def test_delays_double_from_the_base(self) -> None:
        policy = RetryPolicy()

        assert [policy.delay_for(attempt) for attempt in range(1, 6)] == [0.5, 1, 2, 4, 8]

    def test_delays_are_monotone_and_capped(self) -> None:
        policy = RetryPolicy(max_attempts=50)

        delays = [policy.delay_for(attempt) for attempt in range(1, 51)]

        assert delays == sorted(delays)
        assert max(delays) == 30
        assert policy.delay_for(10_000) == 30

    def test_retries_until_max_attempts(self) -> None:
        policy = RetryPolicy()

        assert [policy.should_retry(attempt) for attempt in range(1, 7)] == [
            True, True, True, True, False, False,
        ]

    def test_attempts_start_at_one(self) -> None:
        with pytest.raises(ValueError):
            RetryPolicy().delay_for(0)

    @pytest.mark.parametrize(
        "kwargs",
        [{"max_attempts": 0}, {"base_delay_s": 0}, {"base_delay_s": 5, "max_delay_s": 1}],
    )
    def test_inconsistent_policy_is_refused(self, kwargs: dict[str, float]) -> None:
        with pytest.raises(ValueError):
            RetryPolicy(**kwargs)  # type: ignore[arg-type]


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
