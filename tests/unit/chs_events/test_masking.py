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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id 370202 19900101 1234.", "id 3702**********1234."),
        ("id 370202-1990-0101-123X", "id 3702**********123X"),
        ("id 370202 1990 0101 1234", "id 3702**********1234"),
        # a wrong check digit (…1235) is still masked: logs err on the side of masking
        ("id 370202 19900101 1235", "id 3702**********1235"),
        ("id 370202199001011235", "id 3702**********1235"),
    ],
)
def test_redact_masks_18_digit_id_numbers_written_in_groups(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("old id 370202900101123", "old id 3702*******1123"),
        ("old id 370202 900101 123", "old id 3702*******1123"),
        ("旧证件110105491231002，", "旧证件1101*******1002，"),
    ],
)
def test_redact_masks_15_digit_id_numbers(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 202405011230451",  # no province 20
        "order 123456789012345",  # month 90
        "order 370202901301123",  # month 13
        "order 370202900132123",  # day 32
        "order 3702029001011234",  # 16 digits
        "at 2024-05-01 12:30:45",
    ],
)
def test_redact_leaves_15_digit_numbers_that_are_not_id_numbers(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel +86 138-5321-2345", "tel +86 138****2345"),
        ("tel 0086 138 5321 2345", "tel 0086 138****2345"),
        ("tel 008613853212345", "tel 0086138****2345"),
        ("tel +86-13853212345", "tel +86-138****2345"),
        ("tel 138-5321-2345", "tel 138****2345"),
    ],
)
def test_redact_masks_mobiles_with_prefixes_and_separators(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'null value in column "region" violates not-null constraint\n'
            "DETAIL:  Failing row contains (7, 张三丰, 13853212345, 370202, null).",
            'null value in column "region" violates not-null constraint\n'
            "DETAIL:  Failing row contains (***).",
        ),
        (
            "DETAIL:  Key (mobile)=(13853212345) already exists.",
            "DETAIL:  Key (mobile)=(***) already exists.",
        ),
        (
            "Key (lower(name::text), region)=(张三丰, 370200) already exists.",
            "Key (lower(name::text), region)=(***) already exists.",
        ),
        (
            'Key (person_id)=(p1) is not present in table "people".',
            'Key (person_id)=(***) is not present in table "people".',
        ),
        (
            "Key (slot)=(张三) conflicts with existing key (slot)=(李四).",
            "Key (slot)=(***) conflicts with existing key (slot)=(***).",
        ),
        # values holding parentheses, a line break, or no closing parenthesis at all
        ("Failing row contains (1, 'a) b', 张三).", "Failing row contains (***)."),
        ("Failing row contains (1, '张\n三').\nnext (x)", "Failing row contains (***).\nnext (x)"),
        ("Failing row contains (1, 张三", "Failing row contains (***)"),
        # an exception's repr keeps the detail on one line
        (
            "error: 'dup\\nDETAIL:  Key (name)=(张三) already exists.'",
            "error: 'dup\\nDETAIL:  Key (name)=(***) already exists.'",
        ),
    ],
)
def test_redact_replaces_the_values_in_postgresql_details(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected
