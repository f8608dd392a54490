"""Commands of the remote-care service: imperative requests that a handler carries out (the
correlation id of the events they cause travels in the unit of work)."""

from datetime import date

from chs_events.commands import Command
from chs_events.events.remote_care import FilingCategory, FilingType


class FileRemoteCare(Command):
    """File (and, on the person's commitment, approve at once) a remote-care filing."""

    person_id: str
    filing_type: FilingType
    category: FilingCategory
    destination_region: str
    admission_date: date | None = None
    discharge_date: date | None = None


class RevokeFiling(Command):
    filing_id: str
    reason: str | None = None
