"""The compact table of mobile segments' provinces agrees with phonenumbers' geocoder."""

import random
from importlib.resources import files
from itertools import pairwise

import phonenumbers
import pytest
from phonenumbers import geocoder

from chs_events.identity import mobile_home_province, normalize_mobile
from chs_events.mobile_provinces import derived_ranges, mobile_province
from chs_events.regions import province_code_for_name

pytestmark = pytest.mark.unit


def shipped() -> list[tuple[int, int, str]]:
    text = files("chs_events").joinpath("data/mobile_provinces.tsv").read_text("ascii")
    return [
        (int(first), int(last), province)
        for first, last, province in (line.split("\t") for line in text.splitlines())
    ]


def test_the_shipped_table_is_the_one_the_installed_phonenumbers_gives():
    assert shipped() == list(derived_ranges()), (
        "regenerate it: python -m chs_events.mobile_provinces"
    )


def test_it_answers_what_the_geocoder_answers_for_valid_mobiles():
    rng = random.Random(20261201)
    checked = 0
    while checked < 3000:
        national = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        number = phonenumbers.parse("+86" + national)
        if not phonenumbers.is_valid_number(number):
            continue
        expected = province_code_for_name(geocoder.description_for_number(number, "zh"))
        assert mobile_province(national) == expected, national
        checked += 1


def test_a_segment_the_table_does_not_know_has_no_province():
    ranges = shipped()
    for (_, last, _), (first, _, _) in pairwise(ranges):
        for prefix in range(last + 1, first):
            national = str(prefix)[2:] + "0000"
            try:
                normalize_mobile(national)
            except ValueError:
                continue
            assert mobile_home_province(national) is None
            return
    pytest.fail("no valid mobile outside the table's segments")
