"""Request and response bodies of the remote-care API, with OpenAPI examples.

A region code is checked with ``chs_events.regions``: a refused value answers 422 with
``errors: [{"field": "destination_region", "reason": "region code 460299 is not a GB/T 2260
code"}]``.
"""

import datetime
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chs_events import fields
from chs_events.events.remote_care import (
    CATEGORY_NAMES,
    FILING_TYPE_NAMES,
    FilingCategory,
    FilingType,
)
from chs_events.regions import region
from chs_events.schemas import PublicModel
from chs_remote_care.domain import Coverage
from chs_remote_care.model import Filing, Status

PERSON_ID = fields.PERSON_ID_EXAMPLE
FILING_ID = "0193a6f2-1c3e-7b41-9d0a-5b8e2f6a1c3d"
JINAN, SANYA, SHANGHAI = "370100", "460200", "310000"


RegionCode = Annotated[
    fields.RegionCode,
    Field(
        description="GB/T 2260 region code (a city or province covers its parts)", examples=[SANYA]
    ),
]


class FilingCreate(BaseModel):
    """File for remote care; approved at once on the commitment (秒备案, no documents).

    long_term: relocated_retiree, long_term_resident, stationed_worker — valid from today until
    revoked. temporary: referral, emergency, self_referred — valid 6 months from the admission
    date (back-dated while the discharge is not settled; an emergency at any time) or today.
    """

    model_config = fields.examples(
        {
            "filing_type": "long_term",
            "category": "relocated_retiree",
            "destination_region": SANYA,
            "commitment": True,
        },
        {
            "filing_type": "temporary",
            "category": "emergency",
            "destination_region": SHANGHAI,
            "commitment": True,
            "admission_date": "2026-11-18",
        },
    )
    filing_type: FilingType
    category: FilingCategory
    destination_region: RegionCode
    commitment: Literal[True] = Field(
        description=("个人承诺: the person commits that the facts are true, instead of documents")
    )
    admission_date: date | None = Field(
        default=None, description=("temporary: the admission date the filing is back-dated to")
    )
    discharge_date: date | None = Field(
        default=None, description=("temporary: the discharge date when already discharged")
    )


class FilingRevoke(BaseModel):
    model_config = fields.examples({"reason": "已回参保地居住"})
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None


FILING_EXAMPLE: dict[str, Any] = {
    "filing_id": FILING_ID,
    "person_id": PERSON_ID,
    "filing_type": "long_term",
    "filing_type_name": "长期",
    "category": "relocated_retiree",
    "category_name": "异地安置退休",
    "destination_region": SANYA,
    "destination_name": "三亚市",
    "home_region": JINAN,
    "insutype": "390",
    "enrollment_id": "0192f1c2-7a3f-7e02-8b11-3c9d4e5f6a7b",
    "valid_from": "2026-11-22",
    "valid_until": None,
    "filed_on": "2026-11-22",
    "admission_date": None,
    "discharge_date": None,
    "back_dated": False,
    "status": "active",
    "revoked_on": None,
    "revoke_reason": None,
}


class FilingPublic(PublicModel):
    model_config = ConfigDict(json_schema_extra={"examples": [FILING_EXAMPLE]})
    filing_id: str
    person_id: str
    filing_type: FilingType
    filing_type_name: str
    category: FilingCategory
    category_name: str
    destination_region: str
    destination_name: str
    home_region: str
    insutype: str
    enrollment_id: str
    valid_from: date
    valid_until: date | None = Field(description="Last covered day; None: until revoked")
    filed_on: date
    admission_date: date | None
    discharge_date: date | None
    back_dated: bool
    status: Status
    revoked_on: date | None
    revoke_reason: str | None

    @classmethod
    def of(cls, filing: Filing) -> "FilingPublic":
        return cls.from_attributes(
            filing,
            filing_type_name=FILING_TYPE_NAMES[filing.filing_type],
            category_name=CATEGORY_NAMES[filing.category],
            destination_name=region(filing.destination_region).name,
        )


class FilingList(BaseModel):
    person_id: str
    filings: list[FilingPublic]


class CoverageAnswer(PublicModel):
    """Whether care in ``region`` on ``date`` is covered, and on what basis: home_city (no
    filing needed), filing (the filing that covers it), in_province (temporary care inside the
    home province needs no filing), emergency (counts as filed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": PERSON_ID,
                    "region": SANYA,
                    "date": "2026-12-01",
                    "covered": True,
                    "basis": "filing",
                    "reason": "长期 filing … (异地安置退休)",
                    "home_region": JINAN,
                    "insutype": "390",
                    "filing_id": FILING_ID,
                    "filing_type": "long_term",
                    "category": "relocated_retiree",
                    "destination_region": SANYA,
                    "valid_from": "2026-11-22",
                    "valid_until": None,
                    "admission_date": None,
                }
            ]
        }
    )
    person_id: str
    region: str
    date: datetime.date
    covered: bool
    basis: Literal["home_city", "filing", "in_province", "emergency"] | None
    reason: str
    home_region: str | None
    insutype: str | None
    filing_id: str | None = None
    filing_type: FilingType | None = None
    category: FilingCategory | None = None
    destination_region: str | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    admission_date: datetime.date | None = None

    @classmethod
    def of(
        cls, person_id: str, place: str, day: datetime.date, answer: Coverage
    ) -> "CoverageAnswer":
        """The answer's own fields, then those of the filing that covers it (if one does)."""
        filing = answer.filing
        covered_until = {} if filing is None else {"valid_until": filing.last_covered_day}
        return cls.from_attributes(
            answer, filing, person_id=person_id, region=place, date=day, **covered_until
        )
