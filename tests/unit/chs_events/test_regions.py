import dataclasses

import pytest

from chs_events import regions
from chs_events.errors import InvalidRegionCode
from chs_events.regions import (
    Region,
    city_code,
    is_region_code,
    pooling_region,
    province_code,
    province_code_for_name,
    region,
    same_city,
    same_province,
)

pytestmark = pytest.mark.unit

SHANDONG_CITIES = {
    "370100", "370200", "370300", "370400", "370500", "370600", "370700", "370800",
    "370900", "371000", "371100", "371300", "371400", "371500", "371600", "371700",
}  # fmt: skip


def test_county_level_region():
    assert region("370783") == Region(
        code="370783",
        name="寿光市",
        name_en="Shouguang",
        level="county",
        province_code="370000",
        city_code="370700",
    )


def test_city_and_province_levels():
    qingdao = region("370200")
    assert (qingdao.name, qingdao.name_en, qingdao.level) == ("青岛市", "Qingdao", "city")
    assert qingdao.city_code == "370200"
    shandong = region("370000")
    assert (shandong.level, shandong.province_code, shandong.city_code) == (
        "province",
        "370000",
        None,
    )


def test_regions_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        region("370000").name = "鲁"  # type: ignore[misc]


def test_all_provincial_divisions_and_shandong_cities():
    loaded = regions._REGIONS.values()
    assert sum(r.level == "province" for r in loaded) == 34
    assert {
        r.code for r in loaded if r.level == "city" and r.province_code == "370000"
    } == SHANDONG_CITIES


@pytest.mark.parametrize(
    ("code", "name_en"),
    [("370100", "Jinan"), ("460100", "Haikou"), ("460200", "Sanya"), ("320500", "Suzhou"),
     ("440300", "Shenzhen"), ("650100", "Urumqi"), ("370116", "Laiwu"), ("370215", "Jimo")],
)  # fmt: skip
def test_known_codes(code, name_en):
    assert is_region_code(code)
    assert region(code).name_en == name_en


def test_laiwu_city_merged_into_jinan_is_refused():
    assert not is_region_code("371200")
    with pytest.raises(InvalidRegionCode) as raised:
        region("371200")
    assert raised.value.reason == "region code 371200 is not a GB/T 2260 code"
    assert raised.value.field == "region_code"


@pytest.mark.parametrize("code", ["37020", "3702021", "37020a", " 370202", ""])
def test_malformed_codes(code):
    with pytest.raises(InvalidRegionCode) as raised:
        region(code)
    assert raised.value.reason == f"{code!r} is not 6 digits"
    assert not is_region_code(code)


def test_parents():
    assert province_code("370202") == "370000"
    assert city_code("370202") == "370200"
    assert city_code("370200") == "370200"
    assert city_code("370000") is None
    with pytest.raises(InvalidRegionCode):
        province_code("379999")


def test_municipalities_group_their_districts_under_the_gb_t_2260_city_code():
    assert region("110100").level == "city"
    assert city_code("110100") == "110100"
    assert province_code("500100") == "500000"
    assert city_code("110000") is None


@pytest.mark.parametrize(
    ("code", "pooled_in"),
    [
        ("370202", "370200"),  # 市南区 pools in Qingdao
        ("370783", "370700"),  # Shouguang, a county-level city, in Weifang
        ("370200", "370200"),
        ("370116", "370100"),  # 莱芜区, part of Jinan since 2019
        ("370000", "370000"),
    ],
)
def test_a_district_or_county_pools_in_its_city(code, pooled_in):
    assert pooling_region(code) == pooled_in
    with pytest.raises(InvalidRegionCode):
        pooling_region("371200")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("370783", "370700", True),  # Shouguang is a county-level city of Weifang
        ("370783", "370702", True),
        ("370202", "370211", True),
        ("370202", "370100", False),
        ("370116", "370102", True),  # Laiwu district belongs to Jinan since 2019
        ("370000", "370000", False),
        ("370000", "370100", False),
    ],
)
def test_same_city(a, b, expected):
    assert same_city(a, b) is expected


def test_same_province():
    assert same_province("370783", "370202")
    assert same_province("370000", "370100")
    assert not same_province("370202", "320500")
    with pytest.raises(InvalidRegionCode):
        same_province("370202", "371200")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("山东省青岛市", "370000"),
        ("山东省", "370000"),
        ("重庆市", "500000"),
        ("天津", "120000"),
        ("广西南宁市", "450000"),
        ("内蒙古包头市", "150000"),
        ("新疆乌鲁木齐市", "650000"),
        ("西藏拉萨市", "540000"),
        ("宁夏银川市", "640000"),
        ("黑龙江省哈尔滨市", "230000"),
        ("香港", "810000"),
        ("中国", None),
        ("", None),
    ],
)
def test_province_code_for_name(name, code):
    assert province_code_for_name(name) == code
