"""Request and response bodies of the transfer API. Money is integer fen."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from chs_events import fields
from chs_events.events.transfer import TRANSFER_REJECTION_REASONS, TransferRejectionReason
from chs_events.fields import PERSON_ID_EXAMPLE, PersonId
from chs_events.schemas import PublicModel

TRANSFER_ID = "0693a1f2-7c4e-7d31-8a5b-2f6e4c9d1a07"


RegionCode = Annotated[
    fields.RegionCode,
    Field(description="GB/T 2260 region code of the pooling region", examples=["370100"]),
]
ReasonCode = Annotated[
    TransferRejectionReason, Field(description=fields.closed_list(TRANSFER_REJECTION_REASONS))
]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferCreate(RequestBody):
    """Move the person's active employee insurance (310) to ``to_region``."""

    model_config = fields.examples(
        {"person_id": PERSON_ID_EXAMPLE, "to_region": "370100"},
        {"person_id": PERSON_ID_EXAMPLE, "to_region": "320500"},
    )
    person_id: PersonId
    to_region: RegionCode


class OutConfirmation(RequestBody):
    """The out-region's confirmation. ``account_balance_fen``: its ledger balance, when it states
    one; left out, the balance is counted from the contributions with the allocation rule."""

    model_config = fields.examples({}, {"account_balance_fen": 152000})
    account_balance_fen: Annotated[int, Field(strict=True, ge=0, le=10**12)] | None = None


class Completion(RequestBody):
    """The in-region's completion; nothing to state."""


class Rejection(RequestBody):
    model_config = fields.examples(
        {"by": "out_region", "reason_code": "arrears_unpaid"},
        {"by": "in_region", "reason_code": "no_employer_in_region"},
    )
    by: Literal["out_region", "in_region"] = Field(
        description="out_region while requested; in_region once out-confirmed"
    )
    reason_code: ReasonCode


class TransferPublic(PublicModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "transfer_id": TRANSFER_ID,
                    "person_id": PERSON_ID_EXAMPLE,
                    "enrollment_id": "E1",
                    "insutype": "310",
                    "from_region": "370200",
                    "to_region": "320500",
                    "cross_province": True,
                    "status": "out_confirmed",
                    "requested_on": "2026-11-22",
                    "contribution_months": 14,
                    "account_balance_fen": 182000,
                    "rejected_by": None,
                    "reason_code": None,
                    "reason": None,
                    "out_confirmed_on": "2026-11-23",
                    "completed_on": None,
                    "rejected_on": None,
                }
            ]
        }
    )
    transfer_id: str
    person_id: str
    enrollment_id: str
    insutype: Literal["310"] = "310"
    from_region: str
    to_region: str
    cross_province: bool
    status: Literal["requested", "out_confirmed", "completed", "rejected"]
    requested_on: date
    contribution_months: int | None = Field(description="Known once confirmed or completed")
    account_balance_fen: int | None = Field(description="Personal-account balance moved (fen)")
    rejected_by: Literal["out_region", "in_region"] | None
    reason_code: TransferRejectionReason | None
    out_confirmed_on: date | None
    completed_on: date | None
    rejected_on: date | None

    @computed_field(description="The rejection reason's text, as the SMS tells it")  # type: ignore[prop-decorator]
    @property
    def reason(self) -> str | None:
        return None if self.reason_code is None else TRANSFER_REJECTION_REASONS[self.reason_code]


class TransferList(BaseModel):
    person_id: str
    transfers: list[TransferPublic]
