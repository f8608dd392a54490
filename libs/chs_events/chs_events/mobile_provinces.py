"""The province a mainland mobile number is registered in (号段归属地), from a compact table.

phonenumbers' geocoder answers it, but its data for every country holds ~100 MB in each process
that imports it. ``data/mobile_provinces.tsv`` is the part we use, derived from that same data
(libphonenumber's geocoding files, Apache License 2.0): the mobile prefixes "86" + 7 digits, as
ranges of consecutive prefixes registered in one province. ``python -m chs_events.mobile_provinces``
writes it again from the installed phonenumbers; a test keeps the two in step.

    mobile_province("13853212345") == "370000"      # 1385321 is a Qingdao segment
"""

import sys
from bisect import bisect_right
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from chs_events.regions import province_code_for_name

PREFIX_DIGITS = 9  # "86" and the first 7 digits of the mobile: a segment's HLR code
_PATH = "data/mobile_provinces.tsv"


def derived_ranges() -> Iterator[tuple[int, int, str]]:
    """(first, last, province) runs of 9-digit prefixes, derived from phonenumbers' geodata:
    every prefix starting "861" spread to 9 digits (a longer prefix overrides a shorter one),
    consecutive prefixes of one province merged."""
    from phonenumbers.geodata import GEOCODE_DATA

    provinces: dict[int, str] = {}
    mobile = [(p, names) for p, names in GEOCODE_DATA.items() if p.startswith("861")]
    for prefix, names in sorted(mobile, key=lambda item: len(item[0])):
        province = province_code_for_name(names.get("zh", ""))
        spread = 10 ** (PREFIX_DIGITS - len(prefix))
        first = int(prefix) * spread
        for number in range(first, first + spread):
            if province is None:
                provinces.pop(number, None)
            else:
                provinces[number] = province
    run: list = []
    for number in sorted(provinces):
        if run and number == run[1] + 1 and provinces[number] == run[2]:
            run[1] = number
            continue
        if run:
            yield run[0], run[1], run[2]
        run = [number, number, provinces[number]]
    if run:
        yield run[0], run[1], run[2]


@cache
def _table() -> tuple[list[int], list[int], list[str]]:
    firsts, lasts, provinces = [], [], []
    for line in files("chs_events").joinpath(_PATH).read_text("ascii").splitlines():
        first, last, province = line.split("\t")
        firsts.append(int(first))
        lasts.append(int(last))
        provinces.append(province)
    return firsts, lasts, provinces


def mobile_province(national_number: str) -> str | None:
    """The GB/T 2260 province code of an 11-digit mainland mobile number's segment; None when
    the table does not know the segment."""
    firsts, lasts, provinces = _table()
    prefix = int("86" + national_number[: PREFIX_DIGITS - 2])
    index = bisect_right(firsts, prefix) - 1
    if index >= 0 and prefix <= lasts[index]:
        return provinces[index]
    return None


if __name__ == "__main__":
    target = files("chs_events").joinpath(_PATH)
    lines = [f"{first}\t{last}\t{province}\n" for first, last, province in derived_ranges()]
    with open(str(target), "w", encoding="ascii") as out:
        out.writelines(lines)
    print(f"{target}: {len(lines)} ranges", file=sys.stderr)
