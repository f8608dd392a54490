"""The maternity allowance (生育津贴), worked by hand.

allowance = (monthly average wage // 30) × leave days, in integer fen. The employer's monthly
average in every case below is 8 000.00 yuan = 800 000 fen, so the daily wage is
800 000 // 30 = 26 666 fen (26 666.66… rounded down to the fen: 266.66 yuan).
"""

import pytest

from chs_maternity.domain import (
    Confinement,
    allowance,
    average_wage_fen,
    confinement_of,
    daily_wage_fen,
    is_miscarriage,
    leave_days,
)

MONTHLY = 800_000


def test_daily_wage_is_the_monthly_average_over_30_rounded_down_to_the_fen():
    assert daily_wage_fen(800_000) == 26_666  # 26 666.66… → 26 666
    assert daily_wage_fen(900_000) == 30_000  # exact
    assert daily_wage_fen(29) == 0
    with pytest.raises(TypeError):
        daily_wage_fen(8000.0)  # type: ignore[arg-type]  # no floats


def test_a_single_birth_is_98_days():
    # 26 666 × 98 = 2 613 268 fen = 26 132.68 yuan
    result = allowance(MONTHLY, Confinement("birth"))
    assert (result.leave_days, result.daily_wage_fen, result.amount_fen) == (98, 26_666, 2_613_268)


def test_a_difficult_birth_adds_15_days():
    # 98 + 15 = 113 days; 26 666 × 113 = 3 013 258 fen
    result = allowance(MONTHLY, Confinement("birth", difficult_birth=True))
    assert (result.leave_days, result.amount_fen) == (113, 3_013_258)


def test_twins_add_15_days():
    # 98 + 15 × (2 − 1) = 113 days; 26 666 × 113 = 3 013 258 fen
    result = allowance(MONTHLY, Confinement("birth", babies=2))
    assert (result.leave_days, result.amount_fen) == (113, 3_013_258)


def test_triplets_by_caesarean_add_15_per_extra_baby_and_15_for_the_difficult_birth():
    # 98 + 15 + 15 × (3 − 1) = 143 days; 26 666 × 143 = 3 813 238 fen
    result = allowance(MONTHLY, Confinement("birth", babies=3, difficult_birth=True))
    assert (result.leave_days, result.amount_fen) == (143, 3_813_238)


def test_a_miscarriage_before_4_months_is_15_days():
    # 15 weeks < 16 weeks (4 months): 15 days; 26 666 × 15 = 399 990 fen
    result = allowance(MONTHLY, Confinement("miscarriage", babies=0, gestational_weeks=15))
    assert (result.leave_days, result.amount_fen) == (15, 399_990)


def test_a_miscarriage_from_4_months_is_42_days():
    # 16 weeks = 4 months: 42 days; 26 666 × 42 = 1 119 972 fen
    result = allowance(MONTHLY, Confinement("miscarriage", babies=0, gestational_weeks=16))
    assert (result.leave_days, result.amount_fen) == (42, 1_119_972)
    assert leave_days(Confinement("miscarriage", babies=0, gestational_weeks=27)) == 42


def test_a_miscarriage_without_weeks_cannot_be_computed():
    with pytest.raises(ValueError):
        leave_days(Confinement("miscarriage", babies=0))


def test_the_employer_average_is_the_mean_of_the_staff_bases_rounded_down():
    # (650 000 + 700 000 + 800 001) // 3 = 2 150 001 // 3 = 716 667 (716 667.0)
    assert average_wage_fen([650_000, 700_000, 800_001]) == 716_667
    # (100 + 101) // 2 = 100 (100.5 rounded down)
    assert average_wage_fen([100, 101]) == 100
    assert average_wage_fen([]) is None


@pytest.mark.parametrize(
    ("diagnoses", "expected"),
    [
        (["O80.0", "Z37.0"], Confinement("birth", babies=1, difficult_birth=False)),
        (["O82.0", "Z37.0"], Confinement("birth", babies=1, difficult_birth=True)),  # caesarean
        (["O64.1", "Z37.1"], Confinement("birth", babies=1, difficult_birth=True)),  # obstructed
        (["O30.0", "O84.2", "Z37.2"], Confinement("birth", babies=2, difficult_birth=True)),
        (["O30.0", "Z37.3"], Confinement("birth", babies=2)),
        (["O30.1", "Z37.5"], Confinement("birth", babies=3)),
        (["O30.2", "Z37.5"], Confinement("birth", babies=4)),
        (["O80.9", "Z37"], Confinement("birth", babies=1)),
    ],
)
def test_the_birth_details_come_from_the_discharge_diagnoses(diagnoses, expected):
    assert confinement_of(diagnoses) == expected


def test_prenatal_care_and_a_miscarriage_tell_no_delivery():
    assert confinement_of(["Z34.0"]) is None
    assert confinement_of(["O03.9"]) is None
    assert is_miscarriage(["O03.9"]) and is_miscarriage(["O00.1"])
    assert not is_miscarriage(["O80.0", "Z37.0"])
