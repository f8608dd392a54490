"""The computation: basic insurance, then critical illness, then medical assistance, each on
what the tier before left of the eligible expenses; the person pays the rest in cash.

Order of a visit's eligible amount (政策范围内) ``E``:

1. Temporary remote care (filing ``temporary``): the basic base is ``E × (1000 − s) // 1000``
   with ``s`` the first self-pay share; the rest is the person's first self-pay (先行自付).
2. Basic insurance: the deductible (an inpatient one per admission by level; the outpatient one
   once a year by insured type) is taken off the base; the fund pays
   ``(base − deductible) × ratio // 1000`` up to what is left of the annual cap.
3. Critical illness (residents, 390): the eligible self-pay after basic (``E − pooled fund``)
   is counted toward the annual threshold; of the part above it, each tier pays
   ``portion × ratio // 1000``, up to what is left of the annual cap. Assisted groups listed in
   the policy get the easier terms.
4. Medical assistance (assisted groups): of what is still left of ``E``, after the group's
   annual deductible, ``× ratio // 1000`` up to what is left of the group's annual cap.

Rounding: every fund amount is floored to the fen (integer division); the person's cash is the
total minus the funds, so it absorbs every remainder and the parts add up to the total exactly.
Ineligible expenses (全自费) are paid by the person and are part of the personal cash.

The audits of a claim (enrolled on the service date, a filing where one is required, an invoice
never reimbursed twice, the deadline) are the reimbursement service's, before it calls this.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from chs_events.vocabulary import INSUTYPE_NAMES
from chs_reimbursement.calculator.model import Accumulators, Case, Line, Split
from chs_reimbursement.calculator.policy import Inpatient, Outpatient, Policy


class InvalidCase(ValueError):
    pass


def calculate(case: Case, accumulators: Accumulators, policy: Policy) -> Split:
    """The split of ``case`` for a person whose year so far is ``accumulators``, under
    ``policy`` (the person's pooling region, the year of the service end)."""
    _check(case, accumulators, policy)
    visit = case.visit
    eligible = visit.eligible_fen
    lines: list[Line] = []

    # 1. first self-pay of temporary remote care
    share = (
        policy.remote_care.temporary_first_self_pay_permille if case.filing == "temporary" else 0
    )
    base = eligible * (1000 - share) // 1000
    first_self_pay = eligible - base

    # 2. basic insurance
    basic = _basic(case, accumulators, policy, base)
    pooled = basic.amount
    lines.append(Line("pooled_fund", pooled, basic.rule))

    # 3. critical illness
    self_pay_after_basic = eligible - pooled
    critical_lines, counted = _critical_illness(case, accumulators, policy, self_pay_after_basic)
    critical = sum(line.amount_fen for line in critical_lines)
    lines.extend(critical_lines)

    # 4. medical assistance
    assistance_line, assistance_deductible = _assistance(
        case, accumulators, policy, eligible - pooled - critical
    )
    assistance = assistance_line.amount_fen
    lines.append(assistance_line)

    # 5. the person's cash: the rest of the eligible amount, and the ineligible amount
    eligible_cash = eligible - pooled - critical - assistance
    parts = (
        [
            f"first self-pay {first_self_pay} (remote_care.temporary_first_self_pay_permille "
            f"= {share})"
        ]
        if first_self_pay
        else []
    )
    parts.append(f"basic deductible {basic.deductible}")
    lines.append(
        Line(
            "personal_cash",
            eligible_cash,
            f"eligible expenses {eligible} − pooled fund {pooled} − critical illness "
            f"{critical} − medical assistance {assistance} = {eligible_cash}; the "
            "self-pay after basic insurance included "
            + ", ".join(parts)
            + "; the person's cash absorbs every rounding remainder",
        )
    )
    if visit.ineligible_fen:
        lines.append(
            Line(
                "personal_cash",
                visit.ineligible_fen,
                f"ineligible expenses (全自费) {visit.ineligible_fen}, paid by the person",
            )
        )

    inpatient = visit.visit_type == "inpatient"
    after = accumulators.plus(
        basic_inpatient_paid_fen=pooled if inpatient else 0,
        basic_outpatient_paid_fen=0 if inpatient else pooled,
        inpatient_deductibles_paid_fen=basic.deductible if inpatient else 0,
        outpatient_deductible_paid_fen=0 if inpatient else basic.deductible,
        admissions=1 if inpatient else 0,
        critical_illness_counted_fen=counted,
        critical_illness_paid_fen=critical,
        assistance_deductible_paid_fen=assistance_deductible,
        assistance_paid_fen=assistance,
    )
    return Split(
        total_fen=visit.total_fen,
        eligible_fen=eligible,
        ineligible_fen=visit.ineligible_fen,
        pooled_fund_fen=pooled,
        critical_illness_fen=critical,
        medical_assistance_fen=assistance,
        personal_cash_fen=visit.total_fen - pooled - critical - assistance,
        lines=tuple(lines),
        accumulators=after,
    )


@dataclass(frozen=True)
class _Basic:
    amount: int
    deductible: int
    rule: str


def _left(cap: int | None, paid: int) -> int | None:
    return None if cap is None else max(0, cap - paid)


def _capped(amount: int, left: int | None) -> int:
    return amount if left is None else min(amount, left)


def _cap_text(name: str, cap: int | None, paid: int, left: int | None) -> str:
    if cap is None:
        return f"{name} = none"
    return f"{name} = {cap}, {paid} paid this year, {left} left"


def _basic(case: Case, accumulators: Accumulators, policy: Policy, base: int) -> _Basic:
    person, visit = case.person, case.visit
    level, insutype = visit.institution_level, person.insutype
    terms: Inpatient | Outpatient
    if visit.visit_type == "inpatient":
        inpatient = terms = policy.basic.inpatient
        where = "basic.inpatient"
        deductible_param = inpatient.deductible_fen.of(level)
        deductible_name = f"{where}.deductible_fen.{level} = {deductible_param}, once per admission"
        deductible = min(deductible_param, base)
        paid = accumulators.basic_inpatient_paid_fen
    else:
        outpatient = terms = policy.basic.outpatient
        where = "basic.outpatient"
        deductible_param = outpatient.deductible_fen.of(insutype)
        already = accumulators.outpatient_deductible_paid_fen
        deductible_name = (
            f"{where}.deductible_fen.{insutype} = {deductible_param} a year, {already} already paid"
        )
        deductible = min(max(0, deductible_param - already), base)
        paid = accumulators.basic_outpatient_paid_fen
    ratio = terms.ratio_permille.of(insutype, level)
    cap = terms.annual_cap_fen.of(insutype)
    computed = (base - deductible) * ratio // 1000
    left = _left(cap, paid)
    amount = _capped(computed, left)
    rule = (
        f"basic insurance ({insutype}, {visit.visit_type}, level {level}): (base {base} − "
        f"deductible {deductible}) × {ratio}‰ = {computed} floored; {deductible_name}; "
        f"{where}.ratio_permille.{insutype}.{level} = {ratio}; "
        + _cap_text(f"{where}.annual_cap_fen.{insutype}", cap, paid, left)
    )
    return _Basic(amount, deductible, rule)


def _segments(low: int, high: int, bounds: list[int | None]) -> Iterator[tuple[int, int, int]]:
    """(tier index, start, portion) of the interval [low, high) over the tiers' bounds."""
    start = 0
    for index, bound in enumerate(bounds):
        end = high if bound is None else bound
        portion = max(0, min(high, end) - max(low, start))
        if portion:
            yield index, max(low, start), portion
        if bound is None or bound >= high:
            return
        start = bound


def _critical_illness(
    case: Case, accumulators: Accumulators, policy: Policy, self_pay: int
) -> tuple[list[Line], int]:
    """The critical-illness lines and the self-pay counted toward the threshold."""
    if case.person.insutype != "390":
        return [
            Line(
                "critical_illness",
                0,
                "critical-illness insurance (392) covers residents (390) only",
            )
        ], 0
    terms = policy.critical_illness
    assisted = terms.assisted
    if assisted is not None and case.person.groups & set(assisted.groups):
        threshold, bonus, cap = (
            assisted.threshold_fen,
            assisted.ratio_bonus_permille,
            assisted.annual_cap_fen,
        )
        where = "critical_illness.assisted"
    else:
        threshold, bonus, cap, where = (
            terms.threshold_fen,
            0,
            terms.annual_cap_fen,
            "critical_illness",
        )
    before = accumulators.critical_illness_counted_fen
    low, high = max(0, before - threshold), max(0, before + self_pay - threshold)
    paid = accumulators.critical_illness_paid_fen
    left = _left(cap, paid)
    terms_text = (
        f"{where}.threshold_fen = {threshold}; eligible self-pay counted this year "
        f"{before} + {self_pay} = {before + self_pay}; "
        + _cap_text(f"{where}.annual_cap_fen", cap, paid, left)
    )
    lines: list[Line] = []
    for index, start, portion in _segments(low, high, [t.up_to_fen for t in terms.tiers]):
        ratio = min(1000, terms.tiers[index].ratio_permille + bonus)
        computed = portion * ratio // 1000
        amount = _capped(
            computed, None if left is None else left - sum(line.amount_fen for line in lines)
        )
        bonus_text = f" + {where}.ratio_bonus_permille {bonus}" if bonus else ""
        lines.append(
            Line(
                "critical_illness",
                amount,
                f"critical illness tier {index + 1}: {portion} above the threshold "
                f"(from {start}) × {ratio}‰ = {computed} floored"
                + ("" if amount == computed else f", cut to {amount} by the cap")
                + f"; critical_illness.tiers.{index}.ratio_permille = "
                f"{terms.tiers[index].ratio_permille}{bonus_text}; {terms_text}",
            )
        )
    if not lines:
        lines.append(
            Line(
                "critical_illness",
                0,
                f"critical illness: nothing above the threshold; {terms_text}",
            )
        )
    return lines, self_pay


def _assistance(
    case: Case, accumulators: Accumulators, policy: Policy, left_of_eligible: int
) -> tuple[Line, int]:
    """The medical-assistance line and the assistance deductible paid by this visit."""
    terms = policy.medical_assistance.terms_for(case.person.groups)
    if terms is None:
        return Line(
            "medical_assistance",
            0,
            "medical assistance: the person is in no assisted group of medical_assistance.groups",
        ), 0
    where = f"medical_assistance.groups[{terms.group}]"
    already = accumulators.assistance_deductible_paid_fen
    deductible = min(max(0, terms.deductible_fen - already), left_of_eligible)
    computed = (left_of_eligible - deductible) * terms.ratio_permille // 1000
    paid = accumulators.assistance_paid_fen
    left = _left(terms.annual_cap_fen, paid)
    amount = _capped(computed, left)
    return Line(
        "medical_assistance",
        amount,
        f"medical assistance ({terms.group}): (left {left_of_eligible} − deductible "
        f"{deductible}) × {terms.ratio_permille}‰ = {computed} floored; "
        f"{where}.deductible_fen = {terms.deductible_fen} a year, {already} already "
        f"paid; {where}.ratio_permille = {terms.ratio_permille}; "
        + _cap_text(f"{where}.annual_cap_fen", terms.annual_cap_fen, paid, left),
    ), deductible


def _check(case: Case, accumulators: Accumulators, policy: Policy) -> None:
    person, visit = case.person, case.visit
    problems: list[str] = []
    if person.insutype not in INSUTYPE_NAMES:
        problems.append(f"insutype {person.insutype!r} is neither 310 nor 390")
    if person.region != policy.region:
        problems.append(f"the person's region {person.region} is not the policy's {policy.region}")
    if visit.visit_type not in ("outpatient", "inpatient"):
        problems.append(f"visit_type {visit.visit_type!r} is neither outpatient nor inpatient")
    if visit.institution_level not in (1, 2, 3) or isinstance(visit.institution_level, bool):
        problems.append(f"institution_level {visit.institution_level!r} is not 1, 2 or 3")
    if case.filing not in ("none", "long_term", "temporary"):
        problems.append(f"filing {case.filing!r} is not none, long_term or temporary")
    if visit.visit_type == "inpatient" and visit.discharge_date is None:
        problems.append("an inpatient stay needs a discharge_date")
    if visit.discharge_date is not None and visit.discharge_date < visit.admission_date:
        problems.append("discharge_date is before admission_date")
    if visit.service_end.year != policy.year:
        problems.append(
            f"the service ends in {visit.service_end.year}, the policy is of {policy.year}"
        )
    if accumulators.year != policy.year:
        problems.append(
            f"the accumulators are of {accumulators.year}, the policy is of {policy.year}"
        )
    amounts = {
        "eligible_fen": visit.eligible_fen,
        "ineligible_fen": visit.ineligible_fen,
        **{name: value for name, value in vars(accumulators).items() if name != "year"},
    }
    for name, value in amounts.items():
        if type(value) is not int or value < 0:
            problems.append(f"{name} must be a non-negative integer (fen), got {value!r}")
    if problems:
        raise InvalidCase("; ".join(problems))
