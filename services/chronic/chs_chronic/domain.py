"""The rules of chronic-disease certification (门诊慢特病认定), over the catalog. No I/O.

An application made at the hospital is decided at once when the rules allow it:

1. ``application_window`` — the discharge was at most the catalog's window (30 days) ago;
2. the condition: the one named (``diagnosis_not_in_condition`` when no diagnosis falls in its
   ICD-10 ranges), or the one the diagnoses name (``no_catalog_condition`` when they name none;
   several → queued for a reviewer, ``several_conditions``);
3. not already certified (an active certification of the condition answers 409);
4. ``evidence_missing`` — every evidence kind the catalog requires is referenced;
5. a condition whose catalog entry says ``review`` is queued (``condition_requires_review``);
6. otherwise certified, valid from the discharge date for the condition's months.

A refusal names the rule that failed and says why in words the person reads in the SMS.
Auto-certification (免申即享): an inpatient settlement whose discharge diagnoses fall in an
auto category certifies it, once, when not already active and still valid today. It rests on
the settlements that named the condition while it was active; when every one of them is
reversed (冲正) it is revoked (``falls_with_its_settlements``). A settlement reversed before it
was read grants nothing.
"""

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from chs_chronic.catalog import Catalog, Condition, InvalidDiagnosis, matching, normalize_icd10
from chs_chronic.commands import DecideApplication, Evidence, SubmitApplication
from chs_events.errors import Conflict, InvalidField, NotFound
from chs_events.events.chronic import CHRONIC_REFUSAL_REASONS
from chs_events.events.reimbursement import SettlementCompleted

if TYPE_CHECKING:
    from chs_chronic.model import Application

EVIDENCE_NAMES = {
    "lab_report": "检验报告",
    "pathology": "病理报告",
    "imaging": "影像检查报告",
    "ecg": "心电图报告",
    "lung_function": "肺功能检查报告",
    "specialist_opinion": "专科医师诊断意见",
    "dialysis_record": "透析治疗记录",
    "transplant_record": "器官移植手术记录",
    "discharge_summary": "出院小结",
}

# rules that refuse, and rules that queue
APPLICATION_WINDOW = "application_window"
DIAGNOSIS_NOT_IN_CONDITION = "diagnosis_not_in_condition"
NO_CATALOG_CONDITION = "no_catalog_condition"
EVIDENCE_MISSING = "evidence_missing"
REVIEW_REFUSED = "review_refused"
SEVERAL_CONDITIONS = "several_conditions"
CONDITION_REQUIRES_REVIEW = "condition_requires_review"


class AlreadyCertified(Conflict):
    pass


class NotPending(Conflict):
    pass


class NotActive(Conflict):
    """A certification that already ended cannot end again."""


class StillValid(Conflict):
    """A certification whose validity has not run out does not expire."""


class ApplicationNotFound(NotFound):
    pass


class CertificationNotFound(NotFound):
    pass


ApplicationStatus = Literal["certified", "rejected", "pending_review"]


@dataclass(frozen=True)
class Decision:
    outcome: Literal["certify", "reject", "review"]
    condition: Condition | None
    rule: str | None = None  # the rule that refused, or why it is queued
    reason: str | None = None  # the same, in the person's words

    @property
    def status(self) -> ApplicationStatus:
        statuses: dict[str, ApplicationStatus] = {
            "certify": "certified",
            "reject": "rejected",
            "review": "pending_review",
        }
        return statuses[self.outcome]


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity(condition: Condition, valid_from: date) -> tuple[date, date]:
    """First and last day (inclusive) of a certification starting ``valid_from``."""
    return valid_from, add_months(valid_from, condition.validity_months) - timedelta(days=1)


def normalize_diagnoses(
    codes: Sequence[str],
    field_name: str = "diagnosis_codes",
) -> tuple[str, ...]:
    normalized: list[str] = []
    for index, code in enumerate(codes):
        try:
            cleaned = normalize_icd10(code)
        except InvalidDiagnosis as error:
            raise InvalidField(f"{field_name}.{index}", str(error)) from None
        if cleaned not in normalized:
            normalized.append(cleaned)
    if not normalized:
        raise InvalidField(field_name, "at least one discharge diagnosis is needed")
    return tuple(normalized)


def known_condition(catalog: Catalog, code: str, field_name: str = "condition_code") -> Condition:
    condition = catalog.get(code)
    if condition is None:
        raise InvalidField(field_name, f"no condition {code!r} in the catalog")
    return condition


def check_not_certified(condition: Condition, active: Collection[str]) -> None:
    if condition.code in active:
        raise AlreadyCertified(
            f"{condition.name} ({condition.code}) is already certified for this person",
            condition_code=condition.code,
        )


def missing_evidence(condition: Condition, evidence: Sequence[Evidence]) -> list[str]:
    given = {item.kind for item in evidence}
    return [kind for kind in condition.required_evidence if kind not in given]


def decide_application(
    command: SubmitApplication, catalog: Catalog, today: date, active: Collection[str]
) -> Decision:
    """What the rules make of an application; raises a problem for a request that is wrong."""
    diagnoses = normalize_diagnoses(command.diagnosis_codes)
    for index, item in enumerate(command.evidence):
        if item.kind not in catalog.evidence_kinds:
            raise InvalidField(f"evidence.{index}.kind", f"unknown evidence kind {item.kind!r}")
    if command.discharge_date > today:
        raise InvalidField("discharge_date", f"{command.discharge_date} is in the future")
    requested = (
        known_condition(catalog, command.condition_code)
        if command.condition_code is not None
        else None
    )
    if (today - command.discharge_date).days > catalog.application_window_days:
        return Decision(
            "reject",
            requested,
            APPLICATION_WINDOW,
            f"出院已超过{catalog.application_window_days}日，请携带病历资料到医保经办机构申请",
        )
    if requested is not None:
        if not matching(diagnoses, requested):
            return Decision(
                "reject",
                requested,
                DIAGNOSIS_NOT_IN_CONDITION,
                f"出院诊断不属于{requested.name}的病种范围",
            )
        condition = requested
    else:
        named = catalog.conditions_of(diagnoses)
        if not named:
            return Decision(
                "reject", None, NO_CATALOG_CONDITION, "出院诊断不在门诊慢特病病种目录内"
            )
        if len(named) > 1:
            return Decision(
                "review",
                None,
                SEVERAL_CONDITIONS,
                "出院诊断涉及多个病种：" + "、".join(c.name for c in named) + "，需审核确定",
            )
        condition = named[0]
    check_not_certified(condition, active)
    missing = missing_evidence(condition, command.evidence)
    if missing:
        return Decision(
            "reject",
            condition,
            EVIDENCE_MISSING,
            "缺少" + "、".join(EVIDENCE_NAMES.get(k, k) for k in missing),
        )
    if condition.review:
        return Decision(
            "review", condition, CONDITION_REQUIRES_REVIEW, f"{condition.name}需经医保经办机构审核"
        )
    return Decision("certify", condition)


def decide_review(
    application: "Application",
    command: DecideApplication,
    catalog: Catalog,
    active: Collection[str],
) -> Decision:
    """A reviewer's decision on a queued application (``Application.decide`` checks it is
    queued)."""
    code = command.condition_code or application.condition_code
    if command.decision == "reject":
        reason = CHRONIC_REFUSAL_REASONS.get(command.reason_code) if command.reason_code else None
        if reason is None:
            raise InvalidField("reason_code", "a refusal says why, from the closed list")
        condition = known_condition(catalog, code) if code else None
        return Decision("reject", condition, REVIEW_REFUSED, reason)
    if code is None:
        raise InvalidField(
            "condition_code", "the diagnoses name several conditions: say which one is certified"
        )
    condition = known_condition(catalog, code)
    if not matching(application.diagnosis_codes, condition):
        raise InvalidField(
            "condition_code",
            f"no diagnosis of the application falls in "
            f"{condition.name} ({', '.join(condition.icd10)})",
        )
    check_not_certified(condition, active)
    return Decision("certify", condition)


def auto_grants(
    settlement: SettlementCompleted,
    catalog: Catalog,
    today: date,
) -> list[tuple[Condition, list[str], date, date]]:
    """免申即享: the auto categories an inpatient settlement's discharge diagnoses name, each with
    its diagnoses and validity (from the discharge date), when still valid today."""
    if settlement.visit_type != "inpatient":
        return []
    grants = []
    for condition in catalog.conditions_of(settlement.discharge_diagnoses):
        if not condition.auto:
            continue
        valid_from, valid_until = validity(condition, settlement.service_end)
        if valid_until >= today:
            grants.append(
                (
                    condition,
                    matching(settlement.discharge_diagnoses, condition),
                    valid_from,
                    valid_until,
                )
            )
    return grants


def falls_with_its_settlements(
    source: str, rests_on: Collection[str], reversed_: Collection[str]
) -> bool:
    """A certification without application (``auto``) stands on the settlements that named its
    condition (``rests_on``): it falls once every one of them is reversed (``reversed_``). One
    from an application or a reviewer stands on its own evidence and stays."""
    return source == "auto" and all(settlement in reversed_ for settlement in rests_on)
