"""GB/T 2260 administrative region codes (the subset the platform serves).

A code is PPCCNN: PP0000 is a province-level division, PPCC00 a prefecture-level
city, anything else a county-level division of city PPCC00. Province-level
municipalities follow the same rule: their districts (110105) belong to the
市辖区 grouping (110100), which is listed here as their city.
"""

import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

from chs_events.errors import InvalidRegionCode

Level = Literal["province", "city", "county"]

_CODE = re.compile(r"[0-9]{6}")
# The phonenumbers geocoder writes autonomous regions without their suffix
# ("广西南宁市", "内蒙古包头市"), so names are matched on their stem.
_ADMINISTRATIVE_SUFFIX = re.compile(r"((壮族|回族|维吾尔)?自治区|特别行政区|省|市)$")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    level: Level
    province_code: str
    city_code: str | None


def _level(code: str) -> Level:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def _region_from_entry(entry: dict[str, str]) -> Region:
    code = entry["code"]
    if not _CODE.fullmatch(code):
        raise ValueError(f"regions.json: malformed code {code!r}")
    level = _level(code)
    return Region(
        code=code,
        name=entry["name"],
        name_en=entry["name_en"],
        level=level,
        province_code=code[:2] + "0000",
        city_code=None if level == "province" else code[:4] + "00",
    )


def _load() -> dict[str, Region]:
    entries = json.loads(files("chs_events").joinpath("data/regions.json").read_text("utf-8"))
    regions: dict[str, Region] = {}
    for entry in entries:
        found = _region_from_entry(entry)
        if found.code in regions:
            raise ValueError(f"regions.json: duplicate code {found.code}")
        regions[found.code] = found
    for found in regions.values():
        missing = [p for p in (found.province_code, found.city_code) if p and p not in regions]
        if missing:
            raise ValueError(f"regions.json: {found.code} has no parent {missing[0]}")
    return regions


_REGIONS = _load()
_PROVINCE_BY_NAME_STEM = {
    _ADMINISTRATIVE_SUFFIX.sub("", r.name): r.code
    for r in _REGIONS.values()
    if r.level == "province"
}


def region(code: str) -> Region:
    """The region with this code; raises InvalidRegionCode."""
    if not _CODE.fullmatch(code):
        raise InvalidRegionCode(f"{code!r} is not 6 digits")
    try:
        return _REGIONS[code]
    except KeyError:
        raise InvalidRegionCode(f"region code {code} is not a GB/T 2260 code") from None


def is_region_code(code: str) -> bool:
    return code in _REGIONS


def province_code(code: str) -> str:
    return region(code).province_code


def city_code(code: str) -> str | None:
    """The prefecture-level code; None for a province-level division."""
    return region(code).city_code


def pooling_region(code: str) -> str:
    """The pooling region (统筹区) whose policies hold in ``code``: basic medical insurance pools
    by prefecture-level city, so a district or county is its city's; a city, or a
    province-level division, is its own. Raises InvalidRegionCode."""
    found = region(code)
    return found.city_code if found.level == "county" and found.city_code else found.code


def same_city(a: str, b: str) -> bool:
    """Both in one prefecture-level city; never true for a province-level code."""
    city_a, city_b = city_code(a), city_code(b)
    return city_a is not None and city_a == city_b


def same_province(a: str, b: str) -> bool:
    return province_code(a) == province_code(b)


def covers(area: str, place: str) -> bool:
    """``place`` lies in ``area``: the same code, or a city's districts and counties, or a
    province's every part."""
    if area == place:
        return True
    found = region(area)
    if found.level == "province":
        return region(place).province_code == area
    if found.level == "city":
        return region(place).city_code == area
    return False


def province_code_for_name(zh_name: str) -> str | None:
    """Province of a place description that starts with it: "山东省青岛市" → "370000"."""
    for stem, code in _PROVINCE_BY_NAME_STEM.items():
        if zh_name.startswith(stem):
            return code
    return None
