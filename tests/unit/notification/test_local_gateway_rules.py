import random

import pytest

from chs_notification.local_gateway import (
    SendOutcome,
    check_rate,
    receipt_delivered,
    send_outcome,
)

pytestmark = pytest.mark.unit


class TestSendOutcome:
    def test_no_failures_at_rate_zero(self) -> None:
        assert {send_outcome(roll, 0.0) for roll in (0.0, 0.3, 0.999)} == {SendOutcome.ACCEPTED}

    def test_every_send_fails_at_rate_one(self) -> None:
        outcomes = {send_outcome(roll / 100, 1.0) for roll in range(100)}

        assert outcomes == {SendOutcome.FAILED_BEFORE_ACCEPTING, SendOutcome.REPLY_LOST}

    @pytest.mark.parametrize(
        ("roll", "expected"),
        [
            (0.0, SendOutcome.FAILED_BEFORE_ACCEPTING),
            (0.099, SendOutcome.FAILED_BEFORE_ACCEPTING),
            (0.1, SendOutcome.REPLY_LOST),
            (0.199, SendOutcome.REPLY_LOST),
            (0.2, SendOutcome.ACCEPTED),
        ],
    )
    def test_failures_split_half_before_and_half_after_accepting(
        self, roll: float, expected: SendOutcome
    ) -> None:
        assert send_outcome(roll, 0.2) is expected

    def test_a_seeded_generator_gives_the_same_outcomes(self) -> None:
        def outcomes(seed: int) -> list[SendOutcome]:
            rng = random.Random(seed)
            return [send_outcome(rng.random(), 0.5) for _ in range(50)]

        assert outcomes(7) == outcomes(7)
        assert SendOutcome.ACCEPTED in outcomes(7)
        assert SendOutcome.REPLY_LOST in outcomes(7)

    def test_the_configured_rate_is_the_observed_share(self) -> None:
        rng = random.Random(1)
        failures = sum(
            send_outcome(rng.random(), 0.3) is not SendOutcome.ACCEPTED for _ in range(10_000)
        )

        assert 2800 < failures < 3200


@pytest.mark.parametrize(
    ("roll", "rate", "delivered"),
    [(0.0, 0.0, True), (0.5, 0.5, True), (0.49, 0.5, False), (0.999, 1.0, False)],
)
def test_receipt_delivered(roll: float, rate: float, delivered: bool) -> None:
    assert receipt_delivered(roll, rate) is delivered


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_rates_outside_zero_to_one_are_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="failure_rate"):
        check_rate("failure_rate", rate)
