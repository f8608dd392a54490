"""Events of the chronic-disease service (门诊慢特病), on ``chs.chronic.events``."""

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from pydantic import Field

from chs_events.events.base import Event, register
from chs_events.topics import CHRONIC_EVENTS

CertificationSource = Literal["application", "review", "auto"]

ChronicRefusalReason = Literal[
    "criteria_not_met",
    "diagnosis_not_supported",
    "evidence_incomplete",
]
"""Why a reviewer refuses an application: a closed list, so that no caller-written text reaches
the SMS (a refusal by the rules says why in the rules' own words)."""

CHRONIC_REFUSAL_REASONS: Mapping[ChronicRefusalReason, str] = MappingProxyType(
    {
        "criteria_not_met": "检验检查结果未达到该病种认定标准",
        "diagnosis_not_supported": "诊断依据不足",
        "evidence_incomplete": "认定所需材料不齐全",
    }
)
"""Each refusal reason's text, as the person reads it in the SMS."""

ChronicRevocationReason = Literal[
    "diagnosis_not_supported",
    "no_longer_meets_criteria",
    "documents_not_genuine",
    "at_own_request",
]
"""Why a certification is withdrawn: a closed list, so that no caller-written text reaches the
SMS."""

CHRONIC_REVOCATION_REASONS: Mapping[ChronicRevocationReason, str] = MappingProxyType(
    {
        "diagnosis_not_supported": "复核发现诊断依据不足",
        "no_longer_meets_criteria": "经复查已不符合该病种认定标准",
        "documents_not_genuine": "认定材料经核查不真实",
        "at_own_request": "本人申请撤销",
    }
)
"""Each revocation reason's text, as the person reads it in the SMS."""

SETTLEMENT_REVERSED: Literal["settlement_reversed"] = "settlement_reversed"
ChronicRevocationCode = Literal[ChronicRevocationReason, "settlement_reversed"]
"""Why a certification was withdrawn, as its event says: a reason agency staff gave, or
``settlement_reversed``, which the service gives alone: a certification granted without
application (免申即享) whose every settlement was reversed (冲正)."""


class ChronicEvent(Event):
    topic = CHRONIC_EVENTS
    producer = "chronic"


@register
class ChronicApplied(ChronicEvent):
    """An application was made at the hospital. ``status`` is what the rules made of it at once:
    decided (a ChronicCertified or ChronicRejected follows in the same transaction) or queued
    for review."""

    ce_type = "chs.chronic.applied.v1"
    application_id: str
    institution_code: str
    institution_name: str
    discharge_date: date
    diagnosis_codes: list[str]
    condition_code: str | None = Field(
        description="The condition applied for or matched; None when the diagnoses need a reviewer"
    )
    condition_name: str | None = None
    status: Literal["decided", "pending_review"]
    review_reason: str | None = None


@register
class ChronicCertified(ChronicEvent):
    """A condition was certified: by the rules at once, by a reviewer, or without application
    (免申即享, ``source`` = auto, from a settlement's discharge diagnosis)."""

    ce_type = "chs.chronic.certified.v1"
    certification_id: str
    condition_code: str
    condition_name: str
    source: CertificationSource
    application_id: str | None = None
    settlement_id: str | None = None
    diagnosis_codes: list[str]
    institution_code: str
    institution_name: str
    valid_from: date
    valid_until: date = Field(description="Last day of validity (inclusive)")
    annual_cap_fen: int = Field(strict=True, ge=0)
    pay_ratio_permille: int = Field(strict=True, ge=0, le=1000)


@register
class ChronicRejected(ChronicEvent):
    """An application was refused; ``rule`` names the rule that failed, ``reason`` says it to
    the person."""

    ce_type = "chs.chronic.rejected.v1"
    application_id: str
    condition_code: str | None = None
    condition_name: str | None = None
    rule: str
    reason: str
    decided_by: Literal["rules", "review"]


@register
class ChronicRevoked(ChronicEvent):
    """A certification ended: its validity ran out (``expired``) or it was withdrawn."""

    ce_type = "chs.chronic.revoked.v2"
    certification_id: str
    condition_code: str
    condition_name: str
    reason: Literal["expired", "revoked"]
    ended_on: date
    revocation_code: ChronicRevocationCode | None = Field(
        default=None, description="Why it was withdrawn (``revoked``)"
    )
