"""Who may do what: the platform's one authorization policy, as a table.

Each action (``"<service>:<verb>"``) lists the kinds of caller that may take it, the scope an
agency needs for it, and which of the target's attributes must be the caller's own:

- ``institution`` (a hospital HIS, claims ``institution_code``, ``institution_level``,
  ``region``): what it settles or applies for, at its own institution;
- ``merchant`` (a pharmacy or hospital window, ``merchant_code``): debits under its own code;
- ``employer`` (``employer_id``; or the employer's API key, enrollment only): its own staff;
- ``collector`` (the contribution collection system, ``collector``): contributions;
- ``agency`` (agency staff, ``region`` served and ``scope``): the businesses of its scopes, for
  persons of its pooling region only;
- ``person`` (the insured person through the public app, ``person_id``): their own data;
- ``admin``: registering employers and institutions.

A route declares its action with ``Allowed("<action>")`` (the caller's kind and scope are checked
before anything is read); once it knows the target it calls ``authorize(caller, action,
Target(...))``, which checks what must be the caller's own. Both refuse with the same 403 body,
which says nothing about the target. ``callers(action)`` describes the permits for the OpenAPI
document.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends

from chs_events.auth import Caller, authenticated
from chs_events.problems import Forbidden
from chs_events.regions import covers


class Kind(StrEnum):
    INSTITUTION = "institution"
    MERCHANT = "merchant"
    EMPLOYER = "employer"
    COLLECTOR = "collector"
    AGENCY = "agency"
    PERSON = "person"
    ADMIN = "admin"


class Own(StrEnum):
    """What of the target must be the caller's: compared with the caller's claim of the same
    meaning (``region`` is covered by the agency's region)."""

    PERSON = "person_id"
    INSTITUTION = "institution_code"
    MERCHANT = "merchant_code"
    EMPLOYER = "employer_id"
    REGION = "region"


@dataclass(frozen=True)
class Permit:
    kind: Kind
    own: Own | None = None
    scope: str | None = None

    def describe(self) -> str:
        words = [self.kind.value]
        if self.scope:
            words.append(f"with scope {self.scope}")
        if self.own:
            words.append(f"(its own {self.own.value})")
        return " ".join(words)


INSTITUTION, MERCHANT, EMPLOYER, COLLECTOR, AGENCY, PERSON, ADMIN = Kind
OWN_PERSON = Own.PERSON
IN_REGION = Own.REGION


def _person_or_agency(scope: str | None = None) -> tuple[Permit, ...]:
    """The person themself, or agency staff of the person's region."""
    return (Permit(PERSON, OWN_PERSON), Permit(AGENCY, IN_REGION, scope))


POLICY: Mapping[str, tuple[Permit, ...]] = {
    # enrollment (参保登记)
    "enrollment:register-person": (Permit(PERSON, OWN_PERSON), Permit(AGENCY)),
    "enrollment:read-person": _person_or_agency(),
    "enrollment:change-contact": (Permit(PERSON, OWN_PERSON),),
    "enrollment:confirm-contact": (Permit(PERSON, OWN_PERSON),),
    "enrollment:enroll-resident": _person_or_agency(),
    "enrollment:enroll-employee": (Permit(EMPLOYER, Own.EMPLOYER),),
    "enrollment:enroll-newborn": (Permit(PERSON, OWN_PERSON), Permit(INSTITUTION)),
    "enrollment:record-contribution": (Permit(COLLECTOR),),
    "enrollment:register-employer": (Permit(ADMIN),),
    "enrollment:register-institution": (Permit(ADMIN),),
    "enrollment:change-institution": (Permit(ADMIN),),
    "enrollment:read-institutions": tuple(Permit(kind) for kind in Kind),
    "enrollment:change-staff": (Permit(EMPLOYER, Own.EMPLOYER),),
    # remote-care filing (异地就医备案)
    "remote-care:file": _person_or_agency(),
    "remote-care:read": _person_or_agency(),
    "remote-care:revoke": _person_or_agency(),
    "remote-care:coverage": (*_person_or_agency(), Permit(INSTITUTION)),
    # outpatient chronic disease (门诊慢特病)
    "chronic:read-catalog": tuple(Permit(kind) for kind in Kind),
    "chronic:apply": (Permit(INSTITUTION, Own.INSTITUTION),),
    "chronic:read-application": (
        Permit(INSTITUTION, Own.INSTITUTION),
        Permit(PERSON, OWN_PERSON),
        Permit(AGENCY, IN_REGION, "chronic:review"),
    ),
    "chronic:review": (Permit(AGENCY, IN_REGION, "chronic:review"),),
    "chronic:read-conditions": (*_person_or_agency(), Permit(INSTITUTION)),
    "chronic:revoke": (Permit(AGENCY, IN_REGION, "chronic:review"),),
    # relationship transfer (关系转移接续)
    "transfer:request": _person_or_agency(),
    "transfer:read": _person_or_agency(),
    "transfer:confirm": (Permit(AGENCY, IN_REGION, "transfer:confirm"),),
    # personal accounts (个人账户)
    "accounts:read": _person_or_agency(),
    "accounts:debit": (Permit(MERCHANT, Own.MERCHANT),),
    "accounts:family": (Permit(PERSON, OWN_PERSON),),
    # maternity (生育待遇)
    "maternity:apply": _person_or_agency(),
    "maternity:read": _person_or_agency(),
    "maternity:approve": (Permit(AGENCY, IN_REGION, "maternity:approve"),),
    "maternity:pay": (Permit(AGENCY, IN_REGION, "claims:pay"),),
    # The recovery items (追回) of reversed settlements: the staff who pay allowances recover them.
    "maternity:read-recoveries": (Permit(AGENCY, IN_REGION, "claims:pay"),),
    "maternity:read-wage": (
        Permit(AGENCY, None, "maternity:approve"),
        Permit(EMPLOYER, Own.EMPLOYER),
    ),
    # reimbursement and settlement (一站式结算, 手工报销)
    "reimbursement:settle": (Permit(INSTITUTION, Own.INSTITUTION),),
    "reimbursement:read-settlement": (Permit(INSTITUTION, Own.INSTITUTION), *_person_or_agency()),
    "reimbursement:reverse": (Permit(INSTITUTION, Own.INSTITUTION),),
    "reimbursement:claim": _person_or_agency(),
    "reimbursement:read": _person_or_agency(),
    "reimbursement:pay-claim": (Permit(AGENCY, IN_REGION, "claims:pay"),),
    "reimbursement:read-accumulators": (*_person_or_agency(), Permit(INSTITUTION)),
    "reimbursement:set-assisted-groups": (Permit(AGENCY, IN_REGION, "assistance:write"),),
    "reimbursement:read-policy": tuple(Permit(kind) for kind in Kind),
    # feeds (external records in: deaths, traffic-accident cases): the agencies' exchange
    # systems, for the regions they serve; a batch's report for its uploader only (the handler
    # compares the token's subject)
    "feeds:upload": (Permit(AGENCY, IN_REGION, "feeds:upload"),),
    "feeds:read-batch": (Permit(AGENCY, None, "feeds:upload"),),
    # fraud signals (基金监管): auditors of the signal's region
    "fraud:read-signals": (Permit(AGENCY, IN_REGION, "fraud:review"),),
    "fraud:resolve": (Permit(AGENCY, IN_REGION, "fraud:review"),),
    # push (精准推送): the agencies' operators, for the profiles of their region (a city's, or
    # the province's)
    "push:preview": (Permit(AGENCY, IN_REGION, "push:publish"),),
    # a campaign: drafted, published, cancelled and read by the operators of its region
    "push:draft-campaign": (Permit(AGENCY, IN_REGION, "push:publish"),),
    "push:publish-campaign": (Permit(AGENCY, IN_REGION, "push:publish"),),
    "push:cancel-campaign": (Permit(AGENCY, IN_REGION, "push:publish"),),
    "push:read-campaigns": (Permit(AGENCY, IN_REGION, "push:publish"),),
    # notification (短信服务平台)
    "notification:read-messages": (Permit(PERSON, OWN_PERSON), Permit(ADMIN)),
    "notification:read-stats": (Permit(AGENCY), Permit(ADMIN)),
    "notification:read-templates": tuple(Permit(kind) for kind in Kind),
    # the opt-out register: the person themself, in the public app (a TD reply is the SMS's)
    "notification:set-push-preference": (Permit(PERSON, OWN_PERSON),),
    "notification:read-push-preference": (Permit(PERSON, OWN_PERSON), Permit(ADMIN)),
}

_REFUSED = "this caller may not do this"


def permits_of(action: str) -> tuple[Permit, ...]:
    try:
        return POLICY[action]
    except KeyError:
        raise LookupError(f"no action {action!r} in the policy") from None


def _kind_allowed(caller: Caller, permit: Permit) -> bool:
    return caller.kind == permit.kind and (permit.scope is None or permit.scope in caller.scopes)


@dataclass(frozen=True)
class Target:
    """What the action is taken on, as far as ownership goes; the regions are the pooling
    regions of the person concerned (any of them covered by an agency's region will do)."""

    person_id: str | None = None
    institution_code: str | None = None
    merchant_code: str | None = None
    employer_id: str | None = None
    regions: Iterable[str] = field(default=())


def _owns(caller: Caller, own: Own, target: Target) -> bool:
    if own is Own.REGION:
        served = caller.claim("region")
        return served is not None and any(covers(served, region) for region in target.regions)
    given = getattr(target, own.value)
    return given is not None and caller.claim(own.value) == given


def may(caller: Caller, action: str, target: Target | None = None) -> bool:
    """Whether the caller may take the action on the target (without a target: whether some
    target could be the caller's)."""
    for permit in permits_of(action):
        if not _kind_allowed(caller, permit):
            continue
        if target is None or permit.own is None or _owns(caller, permit.own, target):
            return True
    return False


def authorize(caller: Caller, action: str, target: Target) -> None:
    if not may(caller, action, target):
        raise Forbidden(_REFUSED)


def callers(action: str) -> str:
    """The permits as the OpenAPI document states them."""
    return "; ".join(permit.describe() for permit in permits_of(action))


class Allowed:
    """``caller: Annotated[Caller, Depends(Allowed("reimbursement:settle"))]``: the caller, when
    its kind (and scope) may take the action; 403 otherwise."""

    def __init__(self, action: str) -> None:
        permits_of(action)
        self.action = action
        self.actions: tuple[str, ...] = (action,)  # every action the route may be taken for

    async def __call__(self, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if not may(caller, self.action):
            raise Forbidden(_REFUSED)
        return caller


def allowed(action: str) -> Any:
    """``caller: Annotated[Caller, allowed("reimbursement:settle")]``."""
    return Depends(Allowed(action))


def openapi_callers(
    document: dict[str, Any], actions: Mapping[tuple[str, str], tuple[str, ...]]
) -> None:
    """Add ``x-callers`` and a line of the description to every operation whose actions are
    known (keyed by method and path; a route may be taken for more than one)."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            declared = actions.get((method.upper(), path))
            if not declared:
                continue
            operation["x-chs-action"] = declared[0]
            operation["x-callers"] = [
                permit.describe() for action in declared for permit in permits_of(action)
            ]
            described = operation.get("description", "")
            stated = "; ".join(callers(action) for action in declared)
            operation["description"] = f"{described}\n\nCallers: {stated}.".strip()
