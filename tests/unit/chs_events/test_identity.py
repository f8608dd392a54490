import hashlib
import hmac
import pickle
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from chs_events.errors import InvalidIdNumber, InvalidInput, InvalidMobile
from chs_events.identity import (
    age_on,
    birth_date_from_id_number,
    derive_newborn_person_id,
    derive_person_id,
    mobile_home_province,
    normalize_birth_certificate_no,
    normalize_id_number,
    normalize_mobile,
    sex_from_id_number,
)

pytestmark = pytest.mark.unit

SECRET = b"platform-secret-for-tests"
PERSON_ID = re.compile(r"p[0-9a-f]{32}")


def with_check_digit(body: str) -> str:
    # calc_check_digit ignores the last character of what it is given.
    return body + ric.calc_check_digit(body + "0")


def keyed_id(message: str, secret: bytes = SECRET) -> str:
    return "p" + hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()[:32]


VALID_ID = with_check_digit("37020219900101123")
ID_WITH_X = with_check_digit("37020219900101100")


def refusal(value: str) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as raised:
        normalize_id_number(value)
    return raised.value


def test_valid_id_number_is_returned_unchanged():
    assert VALID_ID == "370202199001011237"
    assert normalize_id_number(VALID_ID) == VALID_ID


def test_lower_case_x_is_upper_cased():
    assert ID_WITH_X.endswith("X")
    assert normalize_id_number(ID_WITH_X.lower()) == ID_WITH_X


def test_surrounding_whitespace_is_ignored():
    assert normalize_id_number(f"  {VALID_ID}\n") == VALID_ID


def test_wrong_check_digit_names_the_expected_digit():
    error = refusal(VALID_ID[:-1] + "5")
    assert error.reason == "check digit is 5, expected 7"
    assert error.field == "id_number"
    assert str(error) == "id_number: check digit is 5, expected 7"


def test_errors_survive_pickling():
    error = pickle.loads(pickle.dumps(InvalidIdNumber("17 characters, expected 18")))
    assert (error.field, error.reason, str(error)) == (
        "id_number",
        "17 characters, expected 18",
        "id_number: 17 characters, expected 18",
    )


def test_x_where_a_digit_is_expected():
    assert refusal(VALID_ID[:-1] + "x").reason == "check digit is X, expected 7"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (VALID_ID[:17], "17 characters, expected 18"),
        (VALID_ID + "1", "19 characters, expected 18"),
        ("", "0 characters, expected 18"),
        ("3702A2199001011237", "character 5 is 'A', expected a digit"),
        ("37020219900101123Y", "last character is 'Y', expected a digit or X"),
    ],
)
def test_malformed_id_numbers(value, reason):
    assert refusal(value).reason == reason


def test_impossible_birth_date():
    error = refusal(with_check_digit("37020219900230123"))
    assert error.reason == "birth date 1990-02-30 does not exist"


def test_future_birth_date():
    future = date.today() + timedelta(days=2)
    body = f"370202{future:%Y%m%d}123"
    assert (
        refusal(with_check_digit(body)).reason == f"birth date {future:%Y-%m-%d} is in the future"
    )


def test_full_width_digits_are_refused():
    assert refusal("３" + VALID_ID[1:]).reason == "character 1 is '３', expected a digit"


@given(
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1)),
    address=st.from_regex(r"[0-9]{6}", fullmatch=True),
    sequence=st.from_regex(r"[0-9]{3}", fullmatch=True),
    other_check=st.sampled_from("0123456789X"),
    other_final=st.characters(),
)
def test_only_the_computed_check_digit_is_accepted(
    birth_date, address, sequence, other_check, other_final
):
    number = with_check_digit(f"{address}{birth_date:%Y%m%d}{sequence}")
    check = number[-1]
    assert normalize_id_number(number) == number
    if other_check != check:
        assert (
            refusal(number[:-1] + other_check).reason
            == f"check digit is {other_check}, expected {check}"
        )
    if other_final.upper() != check:
        refusal(number[:-1] + other_final)


def test_birth_date_and_sex():
    assert birth_date_from_id_number(VALID_ID) == date(1990, 1, 1)
    assert sex_from_id_number(VALID_ID) == "M"
    assert sex_from_id_number(with_check_digit("37020219900101124")) == "F"


def test_birth_date_of_an_invalid_id_number_is_refused():
    with pytest.raises(InvalidIdNumber):
        birth_date_from_id_number(VALID_ID[:-1] + "0")


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1990, 1, 1), date(2024, 1, 1), 34),
        (date(1990, 6, 15), date(2024, 6, 14), 33),
        (date(1990, 6, 15), date(2024, 6, 15), 34),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2024, 5, 1), date(2024, 5, 1), 0),
    ],
)
def test_age_on(born, on, age):
    assert age_on(born, on) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2024, 5, 2), date(2024, 5, 1))


def test_person_id_is_the_truncated_hmac_of_the_id_number():
    person_id = derive_person_id(VALID_ID, SECRET)
    assert PERSON_ID.fullmatch(person_id)
    assert person_id == keyed_id(VALID_ID)


def test_person_id_is_deterministic_across_spellings():
    assert derive_person_id(ID_WITH_X.lower(), SECRET) == derive_person_id(ID_WITH_X, SECRET)


def test_person_id_depends_on_the_secret():
    assert derive_person_id(VALID_ID, SECRET) != derive_person_id(VALID_ID, b"another secret")


def test_person_id_refuses_invalid_id_numbers_and_empty_secrets():
    with pytest.raises(InvalidIdNumber):
        derive_person_id(VALID_ID[:-1] + "0", SECRET)
    with pytest.raises(ValueError):
        derive_person_id(VALID_ID, b"")


def test_newborn_person_id_is_separated_from_id_number_based_ids():
    person_id = derive_newborn_person_id("Q370123456", SECRET)
    assert PERSON_ID.fullmatch(person_id)
    assert person_id == keyed_id("birth-certificate:Q370123456")
    assert person_id != keyed_id("Q370123456")
    assert person_id == derive_newborn_person_id(" q370123456 ", SECRET)
    assert person_id != derive_newborn_person_id("Q370123456", b"another secret")


@pytest.mark.parametrize(
    "value", ["370123456", "QQ70123456", "Q37012345", "Q3701234567", "Q37012345X"]
)
def test_malformed_birth_certificate_numbers(value):
    with pytest.raises(InvalidInput) as raised:
        derive_newborn_person_id(value, SECRET)
    assert raised.value.field == "birth_certificate_no"
    assert "one letter followed by 9 digits" in raised.value.reason


def test_birth_certificate_number_is_upper_cased():
    assert normalize_birth_certificate_no("q370123456") == "Q370123456"


@pytest.mark.parametrize(
    "value",
    [
        "13853212345",
        "+8613853212345",
        "138 5321 2345",
        "138-5321-2345",
        "+86 138 5321 2345",
        " 13853212345 ",
    ],
)
def test_mobile_formats_accepted(value):
    assert normalize_mobile(value) == "13853212345"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("053266661234", "a fixed-line number, not a mobile number"),
        ("12345678901", "not a mobile number of mainland China"),
        ("1385321234", "10 digits, expected 11"),
        ("138532123456", "12 digits, expected 11"),
        ("+85291234567", "not a mobile number of mainland China"),
        ("1385321ABCD", "only digits, spaces, hyphens and a leading + are allowed"),
        ("", "empty"),
    ],
)
def test_mobile_formats_refused(value, reason):
    with pytest.raises(InvalidMobile) as raised:
        normalize_mobile(value)
    assert raised.value.reason == reason
    assert raised.value.field == "mobile"


@pytest.mark.parametrize(
    ("mobile", "province"),
    [
        ("13853212345", "370000"),  # 山东省青岛市
        ("13912345678", "320000"),  # 江苏省常州市
        ("13012345678", "500000"),  # 重庆市
        ("13807710000", "450000"),  # 广西南宁市
    ],
)
def test_mobile_home_province(mobile, province):
    assert mobile_home_province(mobile) == province


def test_mobile_home_province_refuses_invalid_numbers():
    with pytest.raises(InvalidMobile):
        mobile_home_province("053266661234")
