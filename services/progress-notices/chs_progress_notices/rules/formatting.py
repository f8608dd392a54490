"""How amounts, periods and insured types read in a message. Integer arithmetic only."""
from collections.abc import Mapping
from types import MappingProxyType

INSUTYPE_NAMES: Mapping[str, str] = MappingProxyType({
    "310": "职工基本医疗保险",
    "390": "城乡居民基本医疗保险",
})


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals: 12345 → "123.45". Floats are refused."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, got {type(fen).__name__}")
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def period_text(period: str) -> str:
    """A contribution period YYYYMM as it reads in a message: "202611" → "2026年11月"."""
    return f"{period[:4]}年{int(period[4:])}月"
