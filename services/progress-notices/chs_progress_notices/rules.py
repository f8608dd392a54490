"""Which notices a domain result event asks for (办理结果即时发送). Pure: no Kafka, no I/O.

The processor fills every template param it can take from the event itself. The greeting
params are the exception: a result event does not carry the recipient's name, so
notification fills them from its own contact directory, keyed by the recipient
(``NoticeRequested.person_id``):

- ``name`` (every enrollment template but the newborn one) — the recipient's name;
- ``guardian_name`` (``enrollment.newborn_enrolled``) — the recipient's name too, since that
  notice goes to the guardian.

``DIRECTORY_PARAMS`` lists them; ``BUSINESS_PARAMS`` lists, per template, what this module
sends, and the two together are exactly the template's declared params.
"""
from collections.abc import Callable, Mapping
from types import MappingProxyType

from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.enrollment import (
    ContactChanged,
    ContributionPaid,
    EnrollmentRegistered,
    EnrollmentTerminated,
    NewbornEnrolled,
)
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.masking import mask_mobile
from chs_events.regions import region

CATEGORY = "business_result"
PRIORITY = "high"

REGISTERED = "enrollment.registered"
TERMINATED = "enrollment.terminated"
NEWBORN_ENROLLED = "enrollment.newborn_enrolled"
CONTRIBUTION_PAID = "enrollment.contribution_paid"
CONTACT_CHANGED = "enrollment.contact_changed"

DIRECTORY_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType({
    REGISTERED: frozenset({"name"}),
    TERMINATED: frozenset({"name"}),
    NEWBORN_ENROLLED: frozenset({"guardian_name"}),
    CONTRIBUTION_PAID: frozenset({"name"}),
    CONTACT_CHANGED: frozenset({"name"}),
})

BUSINESS_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType({
    REGISTERED: frozenset({"insutype_name", "region_name", "start_date"}),
    TERMINATED: frozenset({"insutype_name", "end_date", "reason"}),
    NEWBORN_ENROLLED: frozenset({"newborn_name", "region_name", "start_date"}),
    CONTRIBUTION_PAID: frozenset({"period", "amount_yuan", "insutype_name"}),
    CONTACT_CHANGED: frozenset({"mobile_masked"}),
})

INSUTYPE_NAMES: Mapping[str, str] = MappingProxyType({
    "310": "职工基本医疗保险",
    "390": "城乡居民基本医疗保险",
})

TERMINATION_REASONS: Mapping[str, str] = MappingProxyType({
    "left_employer": "用人单位办理减员",
    "moved": "参保关系转出",
    "other": "其他原因",
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


def _registered(event: EnrollmentRegistered) -> list[tuple[str, str, dict[str, str]]]:
    if event.at_birth:
        return []  # the guardian gets the newborn notice; this one would read as her own
    return [(REGISTERED, event.person_id, {
        "insutype_name": INSUTYPE_NAMES[event.insutype],
        "region_name": region(event.pooling_region).name,
        "start_date": event.start_date.isoformat(),
    })]


def _terminated(event: EnrollmentTerminated) -> list[tuple[str, str, dict[str, str]]]:
    if event.reason == "death":
        # The recipient has died: a message to their phone helps nobody and hurts the family.
        return []
    return [(TERMINATED, event.person_id, {
        "insutype_name": INSUTYPE_NAMES[event.insutype],
        "end_date": event.end_date.isoformat(),
        "reason": TERMINATION_REASONS[event.reason],
    })]


def _newborn(event: NewbornEnrolled) -> list[tuple[str, str, dict[str, str]]]:
    return [(NEWBORN_ENROLLED, event.guardian_person_id, {
        "newborn_name": event.name,
        "region_name": region(event.pooling_region).name,
        "start_date": event.start_date.isoformat(),
    })]


def _contribution(event: ContributionPaid) -> list[tuple[str, str, dict[str, str]]]:
    return [(CONTRIBUTION_PAID, event.person_id, {
        "period": period_text(event.period),
        "amount_yuan": yuan(event.amount_fen),
        "insutype_name": INSUTYPE_NAMES[event.insutype],
    })]


def _contact(event: ContactChanged) -> list[tuple[str, str, dict[str, str]]]:
    return [(CONTACT_CHANGED, event.person_id, {"mobile_masked": mask_mobile(event.mobile)})]


_RULES: Mapping[type[Event], Callable[..., list[tuple[str, str, dict[str, str]]]]] = {
    EnrollmentRegistered: _registered,
    EnrollmentTerminated: _terminated,
    NewbornEnrolled: _newborn,
    ContributionPaid: _contribution,
    ContactChanged: _contact,
}

SOURCE_TYPES: frozenset[str] = frozenset(model.ce_type for model in _RULES)


def notices_for(envelope: Envelope) -> list[NoticeRequested]:
    """The notices a source event asks for; [] for an event type that asks for none."""
    rule = _RULES.get(type(envelope.event))
    if rule is None:
        return []
    return [
        NoticeRequested(
            person_id=recipient,
            notice_id=notice_id(envelope.id, template_id, recipient),
            template_id=template_id,
            params=params,
            category=CATEGORY,
            priority=PRIORITY,
        )
        for template_id, recipient, params in rule(envelope.event)
    ]
