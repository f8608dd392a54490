"""The platform's shared vocabulary: insured types, money as it reads, and the zone business
dates are kept in."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

EMPLOYEE: Final = "310"  # 职工基本医疗保险
RESIDENT: Final = "390"  # 城乡居民基本医疗保险
Insutype = Literal["310", "390"]
INSUTYPE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        EMPLOYEE: "职工基本医疗保险",
        RESIDENT: "城乡居民基本医疗保险",
    }
)


def insutype_name(code: str) -> str:
    return INSUTYPE_NAMES.get(code, code)


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals: 12345 → "123.45". Floats are refused: amounts
    arrive from JSON, where one can slip in, and are never rounded."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, got {type(fen).__name__}")
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"
