"""Request and response bodies of the transfer API. Money is integer fen."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from chs_events import fields
from chs_events.events.transfer import (
    MAX_TRANSFER_IN_FEN,
    PLATFORM_REFERENCE_PATTERN,
    TRANSFER_REJECTION_REASONS,
    TransferRejectionReason,
)
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
    """The out-region's confirmation of the months paid; it states no balance."""

    model_config = fields.examples({})
    account_balance_fen: int | None = Field(
        default=None,
        description="Not accepted (403, reason balance_not_yours_to_state): the ledger moves "
        "the balance it holds; a transfer into the province takes the balance the national "
        "transfer platform confirmed, entered at its completion",
    )


class Completion(RequestBody):
    """The in-region's completion. Into the province, and only then, the balance the
    out-province confirmed through the national transfer platform and the platform's reference
    (both; the caller, agency staff of the receiving region, is recorded as who entered them).
    Out of the province nothing is stated (403 otherwise): the ledger moves what it holds."""

    model_config = fields.examples(
        {}, {"account_balance_fen": 152000, "platform_reference": "ZY2026112200001"}
    )
    account_balance_fen: Annotated[int, Field(strict=True, ge=0, le=MAX_TRANSFER_IN_FEN)] | None = (
        Field(
            default=None,
            description="Into the province: the personal-account balance the national transfer "
            f"platform confirmed (integer fen, at most {MAX_TRANSFER_IN_FEN})",
        )
    )
    platform_reference: Annotated[str, Field(pattern=PLATFORM_REFERENCE_PATTERN)] | None = Field(
        default=None, description="Into the province: the national transfer platform's reference"
    )


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
                    "account_balance_fen": None,
                    "rejected_by": None,
                    "reason_code": None,
                    "reason": None,
                    "out_confirmed_on": "2026-11-23",
                    "completed_on": None,
                    "rejected_on": None,
                    "confirmed_balance_fen": None,
                    "platform_reference": None,
                    "confirmed_by": None,
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
    account_balance_fen: int | None = Field(
        description="Personal-account balance the ledger reported it moved (fen); null until "
        "the accounts service reports it"
    )
    rejected_by: Literal["out_region", "in_region"] | None
    reason_code: TransferRejectionReason | None
    out_confirmed_on: date | None
    completed_on: date | None
    rejected_on: date | None
    confirmed_balance_fen: int | None = Field(
        description="Into the province: the balance the national transfer platform confirmed"
    )
    platform_reference: str | None = Field(
        description="Into the province: the national transfer platform's reference"
    )
    confirmed_by: str | None = Field(
        description="Into the province: the receiving region's agency staff who entered it"
    )

    @computed_field(description="The rejection reason's text, as the SMS tells it")  # type: ignore[prop-decorator]
    @property
    def reason(self) -> str | None:
        return None if self.reason_code is None else TRANSFER_REJECTION_REASONS[self.reason_code]


class TransferList(BaseModel):
    person_id: str
    transfers: list[TransferPublic]
