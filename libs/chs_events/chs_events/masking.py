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


# Lookarounds on digits leave order numbers and other longer digit runs alone.
# Mobiles may be written 138 5321 2345 or 138-5321-2345; a +86 / 86 prefix is kept.
_PERSONAL_NUMBER = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<id_number>[0-9]{17}[0-9Xx])"
    r"|(?P<prefix>\+?86[ -]?)?(?P<mobile>1[3-9][0-9](?:[ -]?[0-9]{4}){2})"
    r")(?![0-9])"
)
_MOBILE_SEPARATORS = re.compile(r"[ -]")


def _masked(match: re.Match[str]) -> str:
    if match["id_number"]:
        return mask_id_number(match["id_number"])
    return (match["prefix"] or "") + mask_mobile(_MOBILE_SEPARATORS.sub("", match["mobile"]))


def redact(text: str) -> str:
    """Masks every ID number and mainland mobile number in free text."""
    return _PERSONAL_NUMBER.sub(_masked, text)
