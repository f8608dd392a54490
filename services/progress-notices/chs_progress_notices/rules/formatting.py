"""How a contribution period reads in a message (amounts and insured types read as the
platform's vocabulary says: ``chs_events.vocabulary.yuan``, ``INSUTYPE_NAMES``)."""


def period_text(period: str) -> str:
    """A contribution period YYYYMM as it reads in a message: "202611" → "2026年11月"."""
    return f"{period[:4]}年{int(period[4:])}月"
