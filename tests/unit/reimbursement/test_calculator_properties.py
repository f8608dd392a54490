"""Properties of the benefit calculator over generated claims and year-to-date accumulators, for
each packaged policy: no tier pays more than what is left for it nor beyond its annual cap, the
parts add up to the total exactly, accumulators never decrease, every amount is an integer."""

from dataclasses import fields, replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chs_reimbursement.calculator import (
    ASSISTED_GROUPS,
    Accumulators,
    Case,
    Person,
    Split,
    Visit,
    calculate,
    load_policy,
)
from chs_reimbursement.calculator.model import Tier
from chs_reimbursement.calculator.policy import Policy

pytestmark = pytest.mark.unit

POLICIES = [load_policy("370200", 2026), load_policy("370100", 2026)]
FEN = st.integers(min_value=0, max_value=10**9)
SMALL_FEN = st.integers(min_value=0, max_value=5 * 10**7)


@st.composite
def cases(draw) -> tuple[Policy, Case, Accumulators]:
    policy = draw(st.sampled_from(POLICIES))
    person = Person(
        draw(st.sampled_from(["310", "390"])),
        policy.region,
        frozenset(draw(st.sets(st.sampled_from(sorted(ASSISTED_GROUPS))))),
    )
    visit_type = draw(st.sampled_from(["outpatient", "inpatient"]))
    day = date(2026, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    visit = Visit(
        visit_type,
        draw(st.sampled_from([1, 2, 3])),
        draw(st.sampled_from([policy.region, "370783", "110105"])),
        day,
        day if visit_type == "inpatient" else None,
        ("C34.1",),
        draw(FEN),
        draw(st.integers(0, 10**7)),
    )
    filing = draw(st.sampled_from(["none", "long_term", "temporary"]))
    accumulators = Accumulators(
        2026,
        **{
            f.name: draw(st.integers(0, 500) if f.name == "admissions" else SMALL_FEN)
            for f in fields(Accumulators)
            if f.name != "year"
        },
    )
    return policy, Case(person, visit, filing), accumulators


def cap_left(cap: int | None, paid: int) -> int | float:
    return float("inf") if cap is None else max(0, cap - paid)


def settle(case) -> tuple[Policy, Case, Accumulators, Split]:
    policy, claim, before = case
    return policy, claim, before, calculate(claim, before, policy)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_parts_add_up_to_the_total_exactly(case):
    _, claim, _, result = settle(case)
    parts = (
        result.pooled_fund_fen,
        result.critical_illness_fen,
        result.medical_assistance_fen,
        result.personal_cash_fen,
    )
    assert sum(parts) == result.total_fen == claim.visit.total_fen
    assert result.personal_cash_fen >= result.ineligible_fen == claim.visit.ineligible_fen
    tiers: list[Tier] = ["pooled_fund", "critical_illness", "medical_assistance", "personal_cash"]
    for tier, amount in zip(
        tiers,
        parts,
        strict=True,
    ):
        assert sum(line.amount_fen for line in result.lines_of(tier)) == amount
        assert result.lines_of(tier), f"no line explains the {tier}"


@settings(max_examples=400, deadline=None)
@given(cases())
def test_no_tier_pays_more_than_what_is_left_nor_beyond_its_cap(case):
    policy, claim, before, result = settle(case)
    visit, person = claim.visit, claim.person
    eligible = visit.eligible_fen
    assert 0 <= result.pooled_fund_fen <= eligible
    assert 0 <= result.critical_illness_fen <= eligible - result.pooled_fund_fen
    assert (
        0
        <= result.medical_assistance_fen
        <= eligible - result.pooled_fund_fen - result.critical_illness_fen
    )

    if visit.visit_type == "inpatient":
        basic_cap = policy.basic.inpatient.annual_cap_fen.of(person.insutype)
        basic_paid = before.basic_inpatient_paid_fen
    else:
        basic_cap = policy.basic.outpatient.annual_cap_fen.of(person.insutype)
        basic_paid = before.basic_outpatient_paid_fen
    assert result.pooled_fund_fen <= cap_left(basic_cap, basic_paid)

    terms = policy.critical_illness
    if person.insutype == "310":
        assert result.critical_illness_fen == 0
    elif terms.assisted is not None and person.groups & set(terms.assisted.groups):
        assert result.critical_illness_fen <= cap_left(
            terms.assisted.annual_cap_fen, before.critical_illness_paid_fen
        )
    else:
        assert result.critical_illness_fen <= cap_left(
            terms.annual_cap_fen, before.critical_illness_paid_fen
        )

    group = policy.medical_assistance.terms_for(person.groups)
    if group is None:
        assert result.medical_assistance_fen == 0
    else:
        assert result.medical_assistance_fen <= cap_left(
            group.annual_cap_fen, before.assistance_paid_fen
        )


@settings(max_examples=300, deadline=None)
@given(cases())
def test_accumulators_never_decrease_and_count_what_was_paid(case):
    _, claim, before, result = settle(case)
    after = result.accumulators
    assert after.year == before.year
    for f in fields(Accumulators):
        assert getattr(after, f.name) >= getattr(before, f.name), f.name
    inpatient = claim.visit.visit_type == "inpatient"
    assert after.admissions == before.admissions + (1 if inpatient else 0)
    paid_basic = (
        after.basic_inpatient_paid_fen
        - before.basic_inpatient_paid_fen
        + after.basic_outpatient_paid_fen
        - before.basic_outpatient_paid_fen
    )
    assert paid_basic == result.pooled_fund_fen
    assert (
        after.critical_illness_paid_fen - before.critical_illness_paid_fen
        == result.critical_illness_fen
    )
    assert after.assistance_paid_fen - before.assistance_paid_fen == result.medical_assistance_fen


@settings(max_examples=300, deadline=None)
@given(cases())
def test_every_amount_is_an_integer(case):
    _, _, _, result = settle(case)
    amounts = [
        result.total_fen,
        result.eligible_fen,
        result.ineligible_fen,
        result.pooled_fund_fen,
        result.critical_illness_fen,
        result.medical_assistance_fen,
        result.personal_cash_fen,
        *(line.amount_fen for line in result.lines),
        *(getattr(result.accumulators, f.name) for f in fields(Accumulators)),
    ]
    assert all(type(amount) is int and amount >= 0 for amount in amounts)


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 10**8))
def test_a_year_settled_visit_by_visit_stays_within_the_caps(case, second_eligible):
    policy, claim, _ = case
    first = calculate(claim, Accumulators(2026), policy)
    again = replace(claim, visit=replace(claim.visit, eligible_fen=second_eligible))
    after = calculate(again, first.accumulators, policy).accumulators
    insutype = claim.person.insutype
    assert after.basic_inpatient_paid_fen <= policy.basic.inpatient.annual_cap_fen.of(insutype)
    assert after.basic_outpatient_paid_fen <= policy.basic.outpatient.annual_cap_fen.of(insutype)
    if not (
        policy.critical_illness.assisted
        and claim.person.groups & set(policy.critical_illness.assisted.groups)
    ):
        assert after.critical_illness_paid_fen <= policy.critical_illness.annual_cap_fen
    assert after.outpatient_deductible_paid_fen <= policy.basic.outpatient.deductible_fen.of(
        insutype
    )
