"""Request and response bodies of the feeds API, with OpenAPI examples.

A record sent alone has the fields of a batch's row (the CSV columns, the JSON line's members);
the row rules (``domain``) check both alike, so a record refused alone (422) is the line a
batch would refuse, for the same reason.
"""

from datetime import date

from pydantic import BaseModel, Field

from chs_events.events.feeds import AccidentSource, DeathSource
from chs_events.schemas import ChinaTime, PublicModel
from chs_feeds.model import BatchStatus, FeedKind, Outcome

ID_NUMBER = Field(
    max_length=32,
    description="公民身份号码 (18 characters, GB 11643 check digit); kept only as its HMAC",
)
REGION = Field(max_length=24, description="GB/T 2260 code of the region", examples=["370783"])


class DeathCreate(BaseModel):
    """A death record (生存认证) from civil affairs (民政), the police (公安) or health (卫健)."""

    model_config = {
        "extra": "ignore",
        "json_schema_extra": {
            "examples": [
                {
                    "id_number": "37078319520312451X",
                    "date_of_death": "2026-03-14",
                    "source": "civil_affairs",
                    "region_code": "370783",
                }
            ]
        },
    }
    id_number: str = ID_NUMBER
    date_of_death: date = Field(description="From 1900 to today, not before the birth date")
    source: DeathSource
    region_code: str = REGION


class AccidentCreate(BaseModel):
    """A traffic-accident case (医保警) in which the person was injured and another party is
    liable, from the traffic police (公安交警) or the liable party's insurer."""

    model_config = {
        "extra": "ignore",
        "json_schema_extra": {
            "examples": [
                {
                    "id_number": "370783198811234521",
                    "case_id": "SG-JJ-2026-000381",
                    "accident_date": "2026-02-27",
                    "source": "traffic_police",
                    "liable_party": "鲁G·8K2Q7",
                    "region_code": "370783",
                }
            ]
        },
    }
    id_number: str = ID_NUMBER
    case_id: str = Field(max_length=64, description="The police case number")
    accident_date: date = Field(description="From 1900 to today")
    source: AccidentSource
    liable_party: str = Field(
        max_length=100, description="A vehicle plate or an insurer and policy number, not a name"
    )
    region_code: str = REGION


class LinePublic(PublicModel):
    """What became of one line: ``accepted`` (published; ``reason`` says when it corrects an
    earlier record), ``duplicate`` (known already: nothing published) or ``rejected`` (with the
    reason). The ID number is shown masked."""

    line: int | None = Field(description="The physical line of the upload (the CSV header is 1)")
    outcome: Outcome
    reason: str | None = None
    id_number: str | None = Field(default=None, examples=["3707**********451X"])
    record_id: str | None = None


class RecordPublic(LinePublic):
    """The outcome of a record sent alone (``line`` is null)."""


class BatchPublic(PublicModel):
    """An upload and its per-line report, kept for its uploader (``GET /batches/{id}``)."""

    batch_id: str
    kind: FeedKind
    format: str
    status: BatchStatus = Field(
        description="completed; incomplete when the upload stopped before its end "
        "(stopped_reason); receiving while it is read"
    )
    lines: int = Field(description="Lines reported (blank lines and the CSV header are none)")
    accepted: int
    duplicates: int
    rejected: int
    stopped_reason: str | None = None
    received_at: ChinaTime
    completed_at: ChinaTime | None = None
    report: list[LinePublic]
