"""The chronic and special conditions (门诊慢特病) a segment may name, by code or by category.

The codes are those of chronic's catalog (``services/chronic/chs_chronic/catalog.json``, 2026.1);
the catalog has no categories, so they are given here: the ICD-10 chapter of each condition's
diagnoses, and ``special`` (门诊特殊病: the conditions granted without application) beside
``chronic`` (门诊慢性病: the others). A category names every code in it.
"""

from collections.abc import Mapping
from types import MappingProxyType

_CHAPTERS: Mapping[str, tuple[str, ...]] = {
    "circulatory": (
        "hypertension",
        "coronary_heart_disease",
        "atrial_fibrillation",
        "heart_failure",
        "pulmonary_heart_disease",
        "stroke_sequelae",
    ),
    "endocrine": ("t1dm", "t2dm", "hyperthyroidism", "phenylketonuria"),
    "respiratory": ("copd", "asthma"),
    "digestive": ("liver_cirrhosis", "inflammatory_bowel_disease"),
    "genitourinary": ("nephrotic_syndrome", "chronic_kidney_disease", "uraemia_dialysis"),
    "musculoskeletal": (
        "gout",
        "osteoporosis",
        "rheumatoid_arthritis",
        "ankylosing_spondylitis",
        "sle",
    ),
    "skin": ("psoriasis",),
    "nervous": (
        "parkinsons",
        "epilepsy",
        "alzheimers",
        "multiple_sclerosis",
        "myasthenia_gravis",
        "cerebral_palsy",
    ),
    "eye": ("glaucoma",),
    "blood": ("itp", "haemophilia", "aplastic_anaemia"),
    "neoplasm": ("mds", "malignant_tumour"),
    "mental": ("severe_mental_illness",),
    "infectious": ("chronic_hepatitis_b", "tuberculosis"),
    "transplant": ("organ_transplant",),
}
SPECIAL = (
    "malignant_tumour",
    "uraemia_dialysis",
    "organ_transplant",
    "severe_mental_illness",
    "tuberculosis",
    "haemophilia",
    "aplastic_anaemia",
    "phenylketonuria",
)
CODES: frozenset[str] = frozenset(code for codes in _CHAPTERS.values() for code in codes)
CATEGORIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        **{name: frozenset(codes) for name, codes in _CHAPTERS.items()},
        "special": frozenset(SPECIAL),
        "chronic": CODES - frozenset(SPECIAL),
    }
)


def codes_of(names: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The condition codes ``names`` (codes or categories) stand for; ``KeyError`` for a name
    that is neither."""
    found: set[str] = set()
    for name in names:
        if name in CODES:
            found.add(name)
        else:
            found |= CATEGORIES[name]
    return frozenset(found)


def categories_of(code: str) -> frozenset[str]:
    return frozenset(name for name, codes in CATEGORIES.items() if code in codes)
