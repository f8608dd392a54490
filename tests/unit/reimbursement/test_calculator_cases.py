"""The benefit calculator on cases worked out by hand against the packaged Qingdao (370200) 2026
policy, and the validation of policy files.

Qingdao 2026 parameters used below (fen, per-mille): inpatient deductible by level 1/2/3 =
20000 / 50000 / 100000; inpatient ratio 310 = 950 / 920 / 900, 390 = 900 / 800 / 650; inpatient
annual cap 310 = 40000000, 390 = 25000000; outpatient deductible 390 = 10000 a year, ratio 390
level 1 = 600, cap 390 = 80000; critical illness threshold 1500000, tier 1 up to 10000000 above
it at 600, then 700, cap 40000000; assisted (destitute, dibao, poverty_relapse) threshold 750000,
+50 per-mille, no cap; assistance dibao: deductible 0, 700, cap 3000000; temporary remote care
first self-pay 100.
"""

import copy
import json
from datetime import date
from importlib.resources import files
from typing import Literal

import pytest

from chs_reimbursement.calculator import (
    Accumulators,
    Case,
    InvalidCase,
    InvalidPolicy,
    Person,
    Split,
    Visit,
    calculate,
    load_policy,
    parse_policy,
)

pytestmark = pytest.mark.unit

QINGDAO = load_policy("370200", 2026)
EMPLOYEE = Person("310", "370200")
RESIDENT = Person("390", "370200")
DIBAO_RESIDENT = Person("390", "370200", frozenset({"dibao"}))
YEAR = Accumulators(2026)


def admission(
    level: Literal[1, 2, 3],
    eligible: int,
    ineligible: int = 0,
    region: str = "370200",
    month: int = 3,
) -> Visit:
    return Visit(
        "inpatient",
        level,
        region,
        date(2026, month, 1),
        date(2026, month, 10),
        ("I21.0",),
        eligible,
        ineligible,
    )


def split(result: Split) -> tuple[int, int, int, int]:
    return (
        result.pooled_fund_fen,
        result.critical_illness_fen,
        result.medical_assistance_fen,
        result.personal_cash_fen,
    )


def test_an_employees_level_3_admission():
    result = calculate(Case(EMPLOYEE, admission(3, 3_000_123, 200_000)), YEAR, QINGDAO)
    # pooled: (3000123 − deductible 100000) × 900 // 1000 = 2900123 × 0.9 = 2610110.7 → 2610110
    # critical illness: 0 (392 covers residents only); assistance: 0 (no assisted group)
    # cash: 3200123 − 2610110 = 590013 (deductible 100000 + co-pay 290013 + ineligible 200000)
    assert split(result) == (2_610_110, 0, 0, 590_013)
    assert result.total_fen == 3_200_123
    assert result.accumulators == Accumulators(
        2026,
        basic_inpatient_paid_fen=2_610_110,
        inpatient_deductibles_paid_fen=100_000,
        admissions=1,
    )
    assert "basic.inpatient.deductible_fen.3 = 100000" in result.lines_of("pooled_fund")[0].rule
    assert "basic.inpatient.ratio_permille.310.3 = 900" in result.lines_of("pooled_fund")[0].rule
    assert [line.amount_fen for line in result.lines_of("personal_cash")] == [390_013, 200_000]


def test_a_resident_whose_year_crosses_the_critical_illness_threshold():
    before = Accumulators(
        2026,
        basic_inpatient_paid_fen=500_000,
        inpatient_deductibles_paid_fen=50_000,
        admissions=1,
        critical_illness_counted_fen=1_200_000,
    )
    result = calculate(Case(RESIDENT, admission(2, 2_000_000)), before, QINGDAO)
    # pooled: (2000000 − 50000) × 800 // 1000 = 1560000 (cap 25000000 − 500000 left)
    # self-pay after basic: 2000000 − 1560000 = 440000; counted 1200000 + 440000 = 1640000
    # above the threshold 1500000: 140000, all in tier 1: 140000 × 600 // 1000 = 84000
    # cash: 2000000 − 1560000 − 84000 = 356000
    assert split(result) == (1_560_000, 84_000, 0, 356_000)
    assert result.accumulators == Accumulators(
        2026,
        basic_inpatient_paid_fen=2_060_000,
        inpatient_deductibles_paid_fen=100_000,
        admissions=2,
        critical_illness_counted_fen=1_640_000,
        critical_illness_paid_fen=84_000,
    )
    assert "critical_illness.threshold_fen = 1500000" in result.lines_of("critical_illness")[0].rule


def test_a_dibao_resident_through_all_three_tiers():
    result = calculate(Case(DIBAO_RESIDENT, admission(3, 5_000_000, 300_000)), YEAR, QINGDAO)
    # pooled: (5000000 − 100000) × 650 // 1000 = 3185000
    # self-pay after basic: 5000000 − 3185000 = 1815000; assisted threshold 750000 →
    #   1065000 above it, tier 1 at 600 + 50 = 650: 1065000 × 650 // 1000 = 692250 (no cap)
    # left: 5000000 − 3185000 − 692250 = 1122750; dibao: (1122750 − 0) × 700 // 1000 = 785925
    # cash: 1122750 − 785925 = 336825, + ineligible 300000 = 636825
    assert split(result) == (3_185_000, 692_250, 785_925, 636_825)
    assert result.accumulators == Accumulators(
        2026,
        basic_inpatient_paid_fen=3_185_000,
        inpatient_deductibles_paid_fen=100_000,
        admissions=1,
        critical_illness_counted_fen=1_815_000,
        critical_illness_paid_fen=692_250,
        assistance_paid_fen=785_925,
    )
    assert (
        "critical_illness.assisted.threshold_fen = 750000"
        in result.lines_of("critical_illness")[0].rule
    )
    assert (
        "medical_assistance.groups[dibao].ratio_permille = 700"
        in result.lines_of("medical_assistance")[0].rule
    )


def test_a_temporary_remote_care_admission_pays_a_first_self_pay_share():
    visit = admission(3, 1_000_005, region="110105")
    result = calculate(Case(EMPLOYEE, visit, "temporary"), YEAR, QINGDAO)
    # base: 1000005 × (1000 − 100) // 1000 = 900004.5 → 900004; first self-pay 100001
    # pooled: (900004 − 100000) × 900 // 1000 = 720003.6 → 720003
    # cash: 1000005 − 720003 = 280002 (first self-pay 100001 + deductible 100000 + 80001)
    assert split(result) == (720_003, 0, 0, 280_002)
    assert "first self-pay 100001" in result.lines_of("personal_cash")[0].rule
    # the same stay under a long-term filing has no first self-pay:
    # (1000005 − 100000) × 900 // 1000 = 810004.5 → 810004; cash 1000005 − 810004 = 190001
    long_term = calculate(Case(EMPLOYEE, visit, "long_term"), YEAR, QINGDAO)
    assert split(long_term) == (810_004, 0, 0, 190_001)


def test_the_annual_cap_is_reached_mid_visit():
    before = Accumulators(
        2026,
        basic_inpatient_paid_fen=24_900_000,
        critical_illness_counted_fen=2_000_000,
        critical_illness_paid_fen=300_000,
    )
    result = calculate(Case(RESIDENT, admission(1, 500_000)), before, QINGDAO)
    # pooled: (500000 − 20000) × 900 // 1000 = 432000, but the cap 25000000 − 24900000 leaves
    #   100000 → 100000
    # self-pay after basic: 500000 − 100000 = 400000; counted 2000000 → 2400000, above the
    #   threshold from 500000 to 900000: 400000 in tier 1 × 600 // 1000 = 240000
    # cash: 500000 − 100000 − 240000 = 160000
    assert split(result) == (100_000, 240_000, 0, 160_000)
    assert result.accumulators.basic_inpatient_paid_fen == 25_000_000
    assert result.accumulators.critical_illness_counted_fen == 2_400_000
    assert result.accumulators.critical_illness_paid_fen == 540_000
    assert "25000000 left" not in result.lines_of("pooled_fund")[0].rule
    assert "100000 left" in result.lines_of("pooled_fund")[0].rule
    # the next admission of the year gets nothing from the pooled fund:
    # (500000 − 20000) × 900 // 1000 = 432000, cap left 0 → 0; all 500000 is self-pay, above
    #   the threshold from 900000 to 1400000: 500000 × 600 // 1000 = 300000; cash 200000
    after = calculate(Case(RESIDENT, admission(1, 500_000, month=4)), result.accumulators, QINGDAO)
    assert split(after) == (0, 300_000, 0, 200_000)


def test_the_critical_illness_cap_cuts_across_two_tiers():
    before = Accumulators(
        2026, critical_illness_counted_fen=11_400_000, critical_illness_paid_fen=39_800_000
    )
    result = calculate(Case(RESIDENT, admission(3, 1_000_000)), before, QINGDAO)
    # pooled: (1000000 − 100000) × 650 // 1000 = 585000; self-pay 415000
    # above the threshold from 11400000 − 1500000 = 9900000 to 10315000:
    #   tier 1 (to 10000000): 100000 × 600 // 1000 = 60000
    #   tier 2: 315000 × 700 // 1000 = 220500; sum 280500, cap 40000000 − 39800000 = 200000
    #   → tier 1 60000, tier 2 cut to 140000
    # cash: 1000000 − 585000 − 200000 = 215000
    assert split(result) == (585_000, 200_000, 0, 215_000)
    assert [line.amount_fen for line in result.lines_of("critical_illness")] == [60_000, 140_000]
    assert "cut to 140000 by the cap" in result.lines_of("critical_illness")[1].rule


def test_a_jinan_resident_crosses_all_three_critical_illness_tiers_in_one_stay():
    # Jinan 2026: inpatient level 3 deductible 120000, ratio 390 = 600, cap 20000000; critical
    # illness threshold 1600000, tiers to 8400000 at 600, to 18400000 at 650, then 700
    jinan = load_policy("370100", 2026)
    before = Accumulators(
        2026, critical_illness_counted_fen=9_000_000, critical_illness_paid_fen=4_440_000
    )
    result = calculate(
        Case(Person("390", "370100"), admission(3, 30_000_000, region="370100")), before, jinan
    )
    # pooled: (30000000 − 120000) × 600 // 1000 = 17928000; self-pay 12072000
    # above the threshold from 9000000 − 1600000 = 7400000 to 7400000 + 12072000 = 19472000:
    #   tier 1: 8400000 − 7400000 = 1000000 × 600 // 1000 = 600000
    #   tier 2: 18400000 − 8400000 = 10000000 × 650 // 1000 = 6500000
    #   tier 3: 19472000 − 18400000 = 1072000 × 700 // 1000 = 750400
    #   sum 7850400, cap 40000000 − 4440000 leaves 35560000
    # cash: 30000000 − 17928000 − 7850400 = 4221600
    assert split(result) == (17_928_000, 7_850_400, 0, 4_221_600)
    assert [line.amount_fen for line in result.lines_of("critical_illness")] == [
        600_000,
        6_500_000,
        750_400,
    ]


def test_two_admissions_in_a_year_pay_two_deductibles():
    first = calculate(Case(EMPLOYEE, admission(2, 800_000, month=2)), YEAR, QINGDAO)
    # (800000 − 50000) × 920 // 1000 = 690000; cash 110000
    assert split(first) == (690_000, 0, 0, 110_000)
    second = calculate(Case(EMPLOYEE, admission(2, 300_000, month=9)), first.accumulators, QINGDAO)
    # the deductible again: (300000 − 50000) × 920 // 1000 = 230000; cash 70000
    assert split(second) == (230_000, 0, 0, 70_000)
    assert second.accumulators == Accumulators(
        2026, basic_inpatient_paid_fen=920_000, inpatient_deductibles_paid_fen=100_000, admissions=2
    )


def test_an_outpatient_visit_pays_the_rest_of_the_yearly_deductible_once():
    before = Accumulators(
        2026, basic_outpatient_paid_fen=70_000, outpatient_deductible_paid_fen=6_000
    )
    visit = Visit("outpatient", 1, "370200", date(2026, 5, 6), None, ("J06.9",), 30_000)
    result = calculate(Case(RESIDENT, visit), before, QINGDAO)
    # deductible left 10000 − 6000 = 4000; (30000 − 4000) × 600 // 1000 = 15600; cap
    #   80000 − 70000 leaves 10000 → 10000; self-pay 20000 counted, far below the threshold
    # cash 30000 − 10000 = 20000
    assert split(result) == (10_000, 0, 0, 20_000)
    assert result.accumulators == Accumulators(
        2026,
        basic_outpatient_paid_fen=80_000,
        outpatient_deductible_paid_fen=10_000,
        critical_illness_counted_fen=20_000,
    )


def test_a_person_in_several_groups_is_assisted_under_the_first_listed():
    person = Person("390", "370200", frozenset({"illness_poverty", "destitute"}))
    result = calculate(Case(person, admission(1, 100_000)), YEAR, QINGDAO)
    # pooled: (100000 − 20000) × 900 // 1000 = 72000; self-pay 28000 below the assisted
    #   threshold 750000 → 0; destitute (listed first): 28000 × 1000 // 1000 = 28000; cash 0
    assert split(result) == (72_000, 0, 28_000, 0)


def test_a_claim_outside_the_policy_is_refused():
    with pytest.raises(InvalidCase, match="region 370100"):
        calculate(Case(Person("310", "370100"), admission(3, 1000)), YEAR, QINGDAO)
    with pytest.raises(InvalidCase, match="accumulators are of 2025"):
        calculate(Case(EMPLOYEE, admission(3, 1000)), Accumulators(2025), QINGDAO)
    with pytest.raises(InvalidCase, match="eligible_fen must be a non-negative integer"):
        calculate(Case(EMPLOYEE, admission(3, 10.5)), YEAR, QINGDAO)  # type: ignore[arg-type]
    with pytest.raises(InvalidCase, match="discharge_date"):
        calculate(
            Case(EMPLOYEE, Visit("inpatient", 3, "370200", date(2026, 1, 2), None, (), 1000)),
            YEAR,
            QINGDAO,
        )


# --- policy files ---


def raw(region: str = "370200") -> dict:
    path = files("chs_reimbursement.calculator") / "policies" / f"{region}-2026.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_packaged_policies_load():
    jinan = load_policy("370100", 2026)
    assert (jinan.region, jinan.year) == ("370100", 2026)
    assert len(jinan.critical_illness.tiers) == 3
    assert QINGDAO.remote_care.temporary_first_self_pay_permille == 100
    with pytest.raises(InvalidPolicy, match="no policy for region 379999"):
        load_policy("379999", 2026)


def broken(change) -> dict:
    data = copy.deepcopy(raw())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["basic"]["inpatient"]["ratio_permille"]["310"].update({"3": 0.9}),
            "basic.inpatient.ratio_permille.310.3",
        ),
        (
            lambda d: d["basic"]["inpatient"]["ratio_permille"]["390"].update({"1": 1200}),
            "basic.inpatient.ratio_permille.390",
        ),
        (
            lambda d: d["basic"]["inpatient"]["deductible_fen"].pop("3"),
            "basic.inpatient.deductible_fen.3",
        ),
        (
            lambda d: d["basic"]["outpatient"]["annual_cap_fen"].update({"310": True}),
            "basic.outpatient.annual_cap_fen.310",
        ),
        (
            lambda d: d["critical_illness"].update({"threshold_fen": -1}),
            "critical_illness.threshold_fen",
        ),
        (lambda d: d["critical_illness"]["tiers"].reverse(), "critical_illness"),
        (
            lambda d: d["critical_illness"]["tiers"][1].update({"ratio_permille": 700.5}),
            "critical_illness.tiers.1.ratio_permille",
        ),
        (
            lambda d: d["medical_assistance"]["groups"][0].update({"group": "veterans"}),
            "medical_assistance",
        ),
        (
            lambda d: d["remote_care"].update({"temporary_first_self_pay_permille": 150}),
            "remote_care.temporary_first_self_pay_permille",
        ),
        (lambda d: d.update({"region": "Qingdao"}), "region"),
        (lambda d: d.update({"extra": 1}), "extra"),
    ],
)
def test_a_bad_policy_is_refused_with_a_reason_naming_the_field(change, field):
    with pytest.raises(InvalidPolicy) as refused:
        parse_policy(broken(change))
    assert f"{field}:" in str(refused.value)


def test_the_reasons_for_bad_tiers_and_groups_are_spelled_out():
    with pytest.raises(InvalidPolicy, match="last tier must be open"):
        parse_policy(broken(lambda d: d["critical_illness"]["tiers"].reverse()))
    with pytest.raises(InvalidPolicy, match="unknown assisted groups \\['veterans'\\]"):
        parse_policy(
            broken(lambda d: d["medical_assistance"]["groups"][0].update({"group": "veterans"}))
        )
    with pytest.raises(InvalidPolicy, match="listed twice"):
        parse_policy(
            broken(
                lambda d: d["medical_assistance"]["groups"].append(
                    dict(d["medical_assistance"]["groups"][0])
                )
            )
        )
