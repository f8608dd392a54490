"""The disease catalog: validated at load, ICD-10 ranges matched on the code without its dot."""

import copy
import json
from importlib.resources import files

import pytest

from chs_chronic.catalog import (
    Catalog,
    Icd10Range,
    InvalidCatalog,
    InvalidDiagnosis,
    load_catalog,
    normalize_icd10,
)

pytestmark = pytest.mark.unit

AUTO = {
    "malignant_tumour",
    "uraemia_dialysis",
    "organ_transplant",
    "severe_mental_illness",
    "tuberculosis",
    "haemophilia",
    "aplastic_anaemia",
    "phenylketonuria",
}


def raw() -> dict:
    return json.loads((files("chs_chronic") / "catalog.json").read_text(encoding="utf-8"))


def test_packaged_catalog_has_thirty_conditions_and_eight_auto_categories():
    catalog = load_catalog()
    assert len(catalog.conditions) >= 30
    assert {c.code for c in catalog.auto_conditions} == AUTO
    for condition in catalog.conditions:
        assert isinstance(condition.annual_cap_fen, int) and condition.annual_cap_fen > 0
        assert isinstance(condition.pay_ratio_permille, int)
        assert 0 < condition.pay_ratio_permille <= 1000


@pytest.mark.parametrize(
    ("diagnosis", "condition"),
    [
        ("E11.9", "t2dm"),
        ("E11", "t2dm"),
        ("e11.900x001", "t2dm"),
        ("E10.1", "t1dm"),
        ("I10", "hypertension"),
        ("I15.0", "hypertension"),
        ("I16", None),
        ("C34.1", "malignant_tumour"),
        ("C00", "malignant_tumour"),
        ("C97", "malignant_tumour"),
        ("D00.1", None),
        ("N18.5", "uraemia_dialysis"),
        ("N18.6", "uraemia_dialysis"),
        ("N18.4", "chronic_kidney_disease"),
        ("N18.9", None),
        ("N18", None),
        ("Z94.0", "organ_transplant"),
        ("F20.0", "severe_mental_illness"),
        ("F31.2", "severe_mental_illness"),
        ("F32", None),
        ("A15.0", "tuberculosis"),
        ("A19.9", "tuberculosis"),
        ("A20", None),
        ("D66", "haemophilia"),
        ("D68.0", "haemophilia"),
        ("D69.3", "itp"),
        ("D69.6", None),
        ("E70.0", "phenylketonuria"),
        ("E70.2", None),
    ],
)
def test_a_diagnosis_falls_in_at_most_one_condition(diagnosis, condition):
    found = load_catalog().condition_of(diagnosis)
    assert (found.code if found else None) == condition


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("E11", ["E11", "E11.9", "E11.900X001"], ["E10.9", "E12", "E01"]),
        ("C00-C97", ["C00", "C34.1", "C97"], ["C98", "D00", "B99"]),
        ("N18.5-N18.6", ["N18.5", "N18.50", "N18.6"], ["N18", "N18.4", "N18.7"]),
    ],
)
def test_range_contains(text, inside, outside):
    icd_range = Icd10Range.parse(text)
    assert all(icd_range.contains(code) for code in inside)
    assert not any(icd_range.contains(code) for code in outside)


@pytest.mark.parametrize("code", ["E1", "11.9", "E11.", "E11.9.1", "中文", ""])
def test_not_an_icd10_code(code):
    with pytest.raises(InvalidDiagnosis):
        normalize_icd10(code)


@pytest.mark.parametrize("text", ["I15-I10", "C00-D48", "N18-N18.5", "X", "E11-"])
def test_bad_ranges_are_refused(text):
    with pytest.raises(ValueError):
        Icd10Range.parse(text)


def with_change(change) -> dict:
    data = copy.deepcopy(raw())
    change(data)
    return data


def first(data: dict) -> dict:
    return data["conditions"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: first(d).update(annual_cap_fen=3000.5), "annual_cap_fen"),
        (lambda d: first(d).update(pay_ratio_permille=0.6), "pay_ratio_permille"),
        (lambda d: first(d).update(pay_ratio_permille=1200), "pay_ratio_permille"),
        (lambda d: first(d).update(icd10=["I15-I10"]), "I15-I10"),
        (lambda d: first(d).update(icd10=[]), "icd10"),
        (lambda d: first(d).update(required_evidence=["horoscope"]), "horoscope"),
        (lambda d: first(d).update(validity_months=0), "validity_months"),
        (lambda d: d["conditions"].append(dict(first(d))), "listed twice"),
        (
            lambda d: d["conditions"].append(
                {**first(d), "code": "leukaemia", "icd10": ["C91-C95"]}
            ),
            "overlap",
        ),
        (lambda d: first(d).update(icd10=["E11.9"]), "overlap"),
        (lambda d: first(d).pop("name"), "name"),
        (lambda d: first(d).update(colour="red"), "colour"),
    ],
)
def test_invalid_catalog_is_refused_naming_the_fault(change, message):
    with pytest.raises(InvalidCatalog, match=message):
        Catalog.from_data(with_change(change))
