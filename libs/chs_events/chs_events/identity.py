"""ID numbers, pseudonymous person ids and mobile numbers."""

import functools
import hashlib
import hmac
import re
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from chs_events.errors import InvalidIdNumber, InvalidInput, InvalidMobile
from chs_events.mobile_provinces import mobile_province

_CHINA = ZoneInfo("Asia/Shanghai")
_ID_NUMBER_LENGTH = 18
_BIRTH_CERTIFICATE_NO = re.compile(r"[A-Z][0-9]{9}")
_MOBILE_CHARACTERS = re.compile(r"\+?[0-9][0-9 -]*")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_id_number(value: str) -> str:
    """The upper-case form of a valid 公民身份号码; raises InvalidIdNumber."""
    # Not ric.validate(): it also refuses address codes missing from its own
    # place table and cannot say precisely what is wrong.
    number = value.strip().upper()
    if len(number) != _ID_NUMBER_LENGTH:
        raise InvalidIdNumber(f"{len(number)} characters, expected {_ID_NUMBER_LENGTH}")
    for position, character in enumerate(number[:-1], start=1):
        if character not in "0123456789":
            raise InvalidIdNumber(f"character {position} is {character!r}, expected a digit")
    if number[-1] not in "0123456789X":
        raise InvalidIdNumber(f"last character is {number[-1]!r}, expected a digit or X")
    written_date = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    try:
        birth_date = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdNumber(f"birth date {written_date} does not exist") from None
    if birth_date > datetime.now(_CHINA).date():
        raise InvalidIdNumber(f"birth date {written_date} is in the future")
    expected = ric.calc_check_digit(number)
    if number[-1] != expected:
        raise InvalidIdNumber(f"check digit is {number[-1]}, expected {expected}")
    return number


def birth_date_from_id_number(id_number: str) -> date:
    return ric.get_birth_date(normalize_id_number(id_number))


def sex_from_id_number(id_number: str) -> Literal["M", "F"]:
    """From the 17th digit: odd for men, even for women."""
    return "M" if int(normalize_id_number(id_number)[16]) % 2 else "F"


def age_on(birth_date: date, on: date) -> int:
    """Completed years on a day; someone born on 29 February ages on 1 March."""
    if on < birth_date:
        raise ValueError(f"{on} is before the birth date {birth_date}")
    birthday_not_reached = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(birthday_not_reached)


def derive_person_id(id_number: str, secret: bytes) -> str:
    """The platform's pseudonymous person id: "p" + 32 hex digits of HMAC-SHA256."""
    return _keyed_id(normalize_id_number(id_number), secret)


def normalize_birth_certificate_no(value: str) -> str:
    """A 出生医学证明编号: one letter and 9 digits, returned upper-case."""
    number = value.strip().upper()
    if not _BIRTH_CERTIFICATE_NO.fullmatch(number):
        raise InvalidInput("expected one letter followed by 9 digits", field="birth_certificate_no")
    return number


def derive_newborn_person_id(birth_certificate_no: str, secret: bytes) -> str:
    """Person id of a newborn without an ID number, disjoint from ID-number-based ids."""
    return _keyed_id(
        "birth-certificate:" + normalize_birth_certificate_no(birth_certificate_no), secret
    )


def _keyed_id(message: str, secret: bytes) -> str:
    if not secret:
        raise ValueError("the person id secret is empty")
    digest = hmac.new(secret, message.encode("ascii"), hashlib.sha256).hexdigest()
    return "p" + digest[:32]


def normalize_mobile(value: str) -> str:
    """The 11-digit national form of a mainland China mobile number; raises InvalidMobile."""
    text = value.strip()
    if not text:
        raise InvalidMobile("empty")
    return _normalized(text)


# The dispatcher reads each recipient's number more than once per SMS (its sender, the
# gateway), and phonenumbers' parse and checks were a third of its CPU. An invalid number is
# not kept (the exception passes through the cache).
@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    # phonenumbers would read letters as a keypad ("1385321ABCD"); refuse them.
    if not _MOBILE_CHARACTERS.fullmatch(text):
        raise InvalidMobile("only digits, spaces, hyphens and a leading + are allowed")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidMobile("not a phone number") from None
    national = str(number.national_number)
    if number.country_code == 86 and national.startswith("1") and len(national) != 11:
        raise InvalidMobile(f"{len(national)} digits, expected 11")
    if not phonenumbers.is_valid_number_for_region(number, "CN"):
        raise InvalidMobile("not a mobile number of mainland China")
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.FIXED_LINE:
        raise InvalidMobile("a fixed-line number, not a mobile number")
    if kind not in _MOBILE_TYPES:
        raise InvalidMobile("not a mobile number of mainland China")
    return national


def mobile_home_province(mobile: str) -> str | None:
    """GB/T 2260 province the number is registered in; None when its prefix does not say."""
    return mobile_province(normalize_mobile(mobile))
