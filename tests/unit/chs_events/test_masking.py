import pytest

from chs_events.masking import (
    mask_birth_certificate,
    mask_id_number,
    mask_mobile,
    mask_name,
    redact,
)

pytestmark = pytest.mark.unit


def test_masks():
    assert mask_id_number("370202199001011234") == "3702**********1234"
    assert mask_mobile("13853215678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_birth_certificate("Q370123456") == "Q3******56"


def test_too_short_values_are_masked_whole():
    assert mask_name("张") == "*"
    assert mask_id_number("1234") == "****"
    assert mask_name("") == ""


def test_redact_a_log_line():
    line = "registered id_number=370202199001011234 mobile=13853215678 order=12345678901234567890"
    assert redact(line) == (
        "registered id_number=3702**********1234 mobile=138****5678 order=12345678901234567890"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("证件37020219900101100x，手机13853215678", "证件3702**********100x，手机138****5678"),
        ("tel:+8613853215678;", "tel:+86138****5678;"),
        ("tel 8613853215678", "tel 86138****5678"),
        ("tel +86 138-5321-5678", "tel +86 138****5678"),
        ("call 138 5321 5678 now", "call 138****5678 now"),
        ('{"mobile":"13853215678","id":"370202199001011234"}',
         '{"mobile":"138****5678","id":"3702**********1234"}'),
    ],
)  # fmt: skip
def test_redact_finds_numbers_anywhere(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678901234567890",
        "run 3702021990010112345",  # 19 digits
        "run 113853215678",  # 12 digits
        "ts 20240501123045123",  # 17 digits
        "not a mobile 12345678901",
        "no numbers at all",
        "",
    ],
)
def test_redact_leaves_other_numbers_alone(text):
    assert redact(text) == text


def test_redact_is_idempotent():
    once = redact("id 370202199001011234 mobile 13853215678")
    assert redact(once) == once
