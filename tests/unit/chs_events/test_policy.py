"""The authorization policy as a table: every action, every kind of caller, own and foreign
targets."""

import pytest

from chs_events.auth import Caller
from chs_events.policy import POLICY, Allowed, Kind, Own, Target, authorize, callers, may
from chs_events.problems import Forbidden

pytestmark = pytest.mark.unit

ALL_SCOPES = (
    "transfer:confirm chronic:review maternity:approve claims:pay assistance:write feeds:upload"
    " fraud:review push:publish"
)
CLAIMS = {
    Kind.INSTITUTION: {"institution_code": "H37020200017", "region": "370202"},
    Kind.MERCHANT: {"merchant_code": "M370202000001"},
    Kind.EMPLOYER: {"employer_id": "E0000000001"},
    Kind.COLLECTOR: {"collector": "370000-tax"},
    Kind.AGENCY: {"region": "370200", "scope": ALL_SCOPES},
    Kind.PERSON: {"person_id": "p" + "1" * 32},
    Kind.ADMIN: {},
}
OWN = Target(
    person_id="p" + "1" * 32,
    institution_code="H37020200017",
    merchant_code="M370202000001",
    employer_id="E0000000001",
    regions=("370203",),
)
FOREIGN = Target(
    person_id="p" + "2" * 32,
    institution_code="H37010000001",
    merchant_code="M370100000009",
    employer_id="E0000000002",
    regions=("370102",),
)


def caller(kind: Kind, **claims: str) -> Caller:
    return Caller.of({"sub": f"test-{kind}", "caller_kind": kind.value, **CLAIMS[kind], **claims})


CASES = [(action, kind) for action in POLICY for kind in Kind]


@pytest.mark.parametrize(("action", "kind"), CASES, ids=[f"{a}-{k}" for a, k in CASES])
def test_each_kind_reaches_only_what_the_table_gives_it(action: str, kind: Kind) -> None:
    permits = [p for p in POLICY[action] if p.kind is kind]
    who = caller(kind)
    assert may(who, action, OWN) == bool(permits)
    owned = [p for p in permits if p.own is not None]
    # a permit that names what must be the caller's refuses another's target
    assert may(who, action, FOREIGN) == any(p.own is None for p in permits)
    if owned and not any(p.own is None for p in permits):
        with pytest.raises(Forbidden):
            authorize(who, action, FOREIGN)


def test_an_agency_needs_the_business_scope() -> None:
    without_scope = caller(Kind.AGENCY, scope="chronic:review")
    assert may(without_scope, "chronic:review", OWN)
    assert not may(without_scope, "reimbursement:pay-claim", OWN)


def test_an_agency_of_the_province_serves_every_city_of_it() -> None:
    province = caller(Kind.AGENCY, region="370000")
    assert may(province, "reimbursement:pay-claim", Target(regions=("370102",)))
    assert not may(province, "reimbursement:pay-claim", Target(regions=("320500",)))


def test_a_target_of_unknown_region_is_no_agency_s() -> None:
    assert not may(caller(Kind.AGENCY), "accounts:read", Target(person_id="p" + "3" * 32))


def test_every_action_names_its_callers_and_an_unknown_one_is_an_error() -> None:
    assert all(callers(action) for action in POLICY)
    assert callers("accounts:debit") == "merchant (its own merchant_code)"
    with pytest.raises(LookupError):
        Allowed("accounts:withdraw-everything")
    assert {own.value for own in Own} >= {"person_id", "region"}
