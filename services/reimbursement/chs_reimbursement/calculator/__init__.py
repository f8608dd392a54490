"""The benefit calculator: a pure function from a case, the person's year-to-date accumulators
and the region's policy of the year to the split of the bill (basic pooled fund, critical
illness, medical assistance, personal cash). No I/O besides reading the packaged policy files.
"""

from chs_reimbursement.calculator.engine import InvalidCase, calculate
from chs_reimbursement.calculator.model import (
    ASSISTED_GROUPS,
    Accumulators,
    Case,
    FilingCategory,
    Line,
    Person,
    Split,
    Visit,
)
from chs_reimbursement.calculator.policy import InvalidPolicy, Policy, load_policy, parse_policy

__all__ = [
    "ASSISTED_GROUPS",
    "Accumulators",
    "Case",
    "FilingCategory",
    "InvalidCase",
    "InvalidPolicy",
    "Line",
    "Person",
    "Policy",
    "Split",
    "Visit",
    "calculate",
    "load_policy",
    "parse_policy",
]
