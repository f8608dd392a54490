"""Commands of the remote-care service: imperative requests that a handler carries out.

``correlation_id`` (the business request, ``X-Request-Id``) becomes the correlation id of the
events a command causes.
"""
from dataclasses import dataclass
from datetime import date

from chs_remote_care.domain import FilingCategory, FilingType


@dataclass(frozen=True, kw_only=True)
class Command:
    correlation_id: str | None = None


@dataclass(frozen=True)
class FileRemoteCare(Command):
    """File (and, on the person's commitment, approve at once) a remote-care filing."""

    person_id: str
    filing_type: FilingType
    category: FilingCategory
    destination_region: str
    admission_date: date | None = None
    discharge_date: date | None = None


@dataclass(frozen=True)
class RevokeFiling(Command):
    filing_id: str
    reason: str | None = None
