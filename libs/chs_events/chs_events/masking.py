"""Masking of personal identifiers before they reach logs or screens."""

import re


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    hidden = len(value) - keep_start - keep_end
    if hidden < 1:
        return "*" * len(value)
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def mask_id_number(id_number: str) -> str:
    """370202199001011234 → 3702**********1234."""
    return _mask(id_number, 4, 4)


def mask_mobile(mobile: str) -> str:
    """13853215678 → 138****5678."""
    return _mask(mobile, 3, 4)


def mask_name(name: str) -> str:
    """张三丰 → 张**; a one-character name is masked whole."""
    return _mask(name, 1, 0)


def mask_birth_certificate(birth_certificate_no: str) -> str:
    """Q370123456 → Q3******56."""
    return _mask(birth_certificate_no, 2, 2)


# Personal numbers in free text. Lookarounds on digits leave order numbers and other longer
# digit runs alone. Logs err on the side of masking: an 18-digit number is masked whatever its
# check digit, written whole or in groups (370202 19900101 1234, 370202-1990-0101-1234: six
# digits, a space or hyphen, then twelve more with at most one separator between any two).
# A 15-digit (GB 11643-1989) number is masked only when it reads as one: a province code, then
# YYMMDD with a real month and day, then a three-digit sequence; so 202405011230451 (an order
# or timestamp) stays. Mobiles may be written 138 5321 2345 or 138-5321-2345; a +86 / 0086 / 86
# prefix is kept.
_PROVINCE = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])"
_YYMMDD = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
# (The leading lookahead, eleven characters every match starts with, lets the engine skip
# quickly past ordinary text, UUIDs and timestamps: several times faster than the lookbehind.)
_PERSONAL_NUMBER = re.compile(
    r"(?=[+0-9][0-9 +-]{10})(?<![0-9])(?:"
    r"(?P<id_number>[0-9]{6}(?:[0-9]{11}|[ -](?:[0-9][ -]?){11})[0-9Xx]"
    rf"|{_PROVINCE}[0-9]{{4}}[ -]?{_YYMMDD}[ -]?[0-9]{{3}})"
    r"|(?P<prefix>(?:\+|00)?86[ -]?)?(?P<mobile>1[3-9][0-9](?:[ -]?[0-9]{4}){2})"
    r")(?![0-9])"
)
_SEPARATORS = re.compile(r"[ -]")

# PostgreSQL error details echo the values of a row or a key, which may hold anything (names,
# addresses, free text): "Failing row contains (…)." and "Key (mobile)=(…) already exists.".
# The values are replaced, column names kept: up to the closing parenthesis that ends the line
# (or precedes the words PostgreSQL puts after a key), else the last one on the line, else the
# first line ending in one (a value with a line break), else the rest of the line.
REDACTED_VALUES = "(***)"


def _values_then(end: str) -> str:
    """The values after "(": to a ")" then ``end``, else the last ")" on the line, else to the
    first ")" then ``end`` on a later line, else to the end of the line."""
    return rf"\((?:[^\n]*?\)(?={end})|[^\n]*\)|[\s\S]*?\)(?={end})|[^\n]*)"


_LINE_END = r"\.?[ \t]*$"
_FAILING_ROW = re.compile(r"(Failing row contains )" + _values_then(_LINE_END), re.MULTILINE)
_KEY_VALUES = re.compile(
    r"(\b[Kk]ey \((?:[^()\n]|\([^()\n]*\))*\)=)"
    + _values_then(
        rf" already exists| is not present| is still referenced| conflicts with|{_LINE_END}"
    ),
    re.MULTILINE,
)


def _masked(match: re.Match[str]) -> str:
    if match["id_number"]:
        return mask_id_number(_SEPARATORS.sub("", match["id_number"]))
    return (match["prefix"] or "") + mask_mobile(_SEPARATORS.sub("", match["mobile"]))


def redact(text: str) -> str:
    """Masks ID numbers, mainland mobile numbers and PostgreSQL row details in free text."""
    if "row contains (" in text:
        text = _FAILING_ROW.sub(r"\1" + REDACTED_VALUES, text)
    if ")=(" in text:
        text = _KEY_VALUES.sub(r"\1" + REDACTED_VALUES, text)
    return _PERSONAL_NUMBER.sub(_masked, text)
