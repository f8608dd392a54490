"""The row rules of the feeds (``chs_feeds.domain``): the ID number and its check digit, the
dates, the source, the region, an accident's case id and liable party; the raw ID number goes
no further than the check (the person id and the masked number do). No I/O."""

from datetime import date
from typing import Any

import pytest
from stdnum.cn import ric

from chs_events.errors import InvalidField
from chs_events.identity import derive_person_id
from chs_feeds.domain import accident_report, death_report, masked_id_number, refusal
from chs_feeds.model import AccidentReport, DeathReport

pytestmark = pytest.mark.unit

TODAY = date(2026, 3, 20)
SECRET = b"unit-test-secret"


def id_number(body: str = "37078319520312451") -> str:
    """``body`` (17 digits) with its check digit."""
    return body + ric.calc_check_digit(body + "0")


ID_NUMBER = id_number()  # born 1952-03-12
PERSON_ID = derive_person_id(ID_NUMBER, SECRET)
DEATH = {
    "id_number": ID_NUMBER,
    "date_of_death": "2026-03-14",
    "source": "civil_affairs",
    "region_code": "370783",
}
ACCIDENT = {
    "id_number": ID_NUMBER,
    "case_id": "SG-JJ-2026-000381",
    "accident_date": "2026-02-27",
    "source": "traffic_police",
    "liable_party": "鲁G·8K2Q7",
    "region_code": "370783",
}


def refused(rule: Any, fields: dict[str, Any]) -> str:
    with pytest.raises(InvalidField) as caught:
        rule(fields, today=TODAY, secret=SECRET)
    return refusal(caught.value)


def test_a_death_row_becomes_its_report_with_the_person_id_and_the_masked_number() -> None:
    report = death_report(DEATH, today=TODAY, secret=SECRET, line=7)
    assert report == DeathReport(
        person_id=PERSON_ID,
        id_number="3707**********451X",
        date_of_death=date(2026, 3, 14),
        source="civil_affairs",
        region_code="370783",
        line=7,
    )
    assert ID_NUMBER not in repr(report)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id_number": ID_NUMBER[:-1] + "0"}, "id_number: check digit is 0, expected X"),
        ({"id_number": ID_NUMBER.lower()}, None),  # a lower-case x is the same number
        ({"id_number": "37078319520312"}, "id_number: 14 characters, expected 18"),
        ({"id_number": ""}, "id_number: missing"),
        ({"id_number": None}, "id_number: missing"),
        ({"date_of_death": "2026-03-21"}, "date_of_death: 2026-03-21 is in the future"),
        ({"date_of_death": "1899-12-31"}, "date_of_death: 1899-12-31 is before 1900-01-01"),
        (
            {"date_of_death": "1952-03-11"},
            "date_of_death: 1952-03-11 is before the birth date of the ID number",
        ),
        ({"date_of_death": "2026-02-30"}, "date_of_death: not a date (YYYY-MM-DD)"),
        ({"date_of_death": "14/03/2026"}, "date_of_death: not a date (YYYY-MM-DD)"),
        ({"date_of_death": "20260314"}, None),
        ({"date_of_death": date(2026, 3, 14)}, None),
        ({"source": "hospital"}, "source: 'hospital' is not one of civil_affairs, police, health"),
        ({"source": ""}, "source: missing"),
        ({"region_code": "379999"}, "region_code: region code 379999 is not a GB/T 2260 code"),
        ({"region_code": 370783}, None),
        ({"region_code": True}, "region_code: not text"),
    ],
)
def test_each_rule_of_a_death_row(changes: dict[str, Any], reason: str | None) -> None:
    fields = {**DEATH, **changes}
    if reason is None:
        assert death_report(fields, today=TODAY, secret=SECRET).person_id == PERSON_ID
    else:
        assert refused(death_report, fields) == reason


def test_a_refusal_never_holds_an_id_number() -> None:
    """An ID number in the wrong column is masked in the reason."""
    reason = refused(death_report, {**DEATH, "region_code": ID_NUMBER})
    assert ID_NUMBER not in reason and "3707**********451X" in reason
    reason = refused(death_report, {**DEATH, "source": ID_NUMBER})
    assert ID_NUMBER not in reason


def test_the_masked_number_of_any_row() -> None:
    assert masked_id_number({"id_number": ID_NUMBER}) == "3707**********451X"
    assert masked_id_number({"id_number": "1234"}) == "****"
    assert masked_id_number({"id_number": "x" * 500}) == "xxxx" + "*" * 12 + "xxxx"
    assert masked_id_number({}) is None


def test_an_accident_row_becomes_its_report() -> None:
    assert accident_report(ACCIDENT, today=TODAY, secret=SECRET) == AccidentReport(
        person_id=PERSON_ID,
        id_number="3707**********451X",
        case_id="SG-JJ-2026-000381",
        accident_date=date(2026, 2, 27),
        source="traffic_police",
        liable_party="鲁G·8K2Q7",
        region_code="370783",
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"case_id": ""}, "case_id: missing"),
        ({"case_id": "SG 2026"}, "case_id: only letters, digits and - _ / . are allowed"),
        ({"case_id": "C" * 65}, "case_id: longer than 64 characters"),
        ({"liable_party": " "}, "liable_party: missing"),
        (
            {"liable_party": "13853215678"},
            "liable_party: holds an ID number or a mobile: give the plate or the policy",
        ),
        (
            {"liable_party": f"车主 {ID_NUMBER}"},
            "liable_party: holds an ID number or a mobile: give the plate or the policy",
        ),
        (
            {"liable_party": "138-5321-5678"},
            "liable_party: holds an ID number or a mobile: give the plate or the policy",
        ),
        ({"liable_party": "人保财险 PDAA202637020000012345"}, None),
        ({"liable_party": "人保财险 202637020000012345"}, None),  # no check digit: a policy
        ({"accident_date": "2026-04-01"}, "accident_date: 2026-04-01 is in the future"),
        (
            {"source": "civil_affairs"},
            "source: 'civil_affairs' is not one of traffic_police, insurer",
        ),
        ({"source": "insurer"}, None),
    ],
)
def test_each_rule_of_an_accident_row(changes: dict[str, Any], reason: str | None) -> None:
    fields = {**ACCIDENT, **changes}
    if reason is None:
        assert accident_report(fields, today=TODAY, secret=SECRET).case_id
    else:
        assert refused(accident_report, fields) == reason
