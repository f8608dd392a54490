"""The platform's time: timezone-aware, business dates in China Standard Time."""

from datetime import date, datetime

from chs_events.vocabulary import CHINA


def now() -> datetime:
    return datetime.now(CHINA)


def today() -> date:
    """The business date: what day it is in Asia/Shanghai."""
    return now().date()
