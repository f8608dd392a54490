"""Micro-benchmarks of the per-event hot paths, as ratios against a baseline in the same run.

    make bench        (or: python bench/run.py [--seconds 0.5])

Each row times an operation of ours and a baseline doing the irreducible part of the same job
(e.g. plain orjson for the envelope), and prints both per-call times and their ratio. Ratios
are stable across machines; absolute times are not.
"""

import argparse
import hashlib
import logging
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime

import orjson

from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.events.reimbursement import SettlementCompleted
from chs_events.identity import derive_person_id
from chs_events.logging import JsonFormatter
from chs_events.masking import redact
from chs_reimbursement.calculator import Accumulators, Case, Person, Visit, calculate, load_policy

SECRET = b"bench-secret"
ID_NUMBER = "370202199001011237"
EVENT = EnrollmentRegistered(
    person_id="p" + "0" * 32,
    enrollment_id="E1",
    insutype="310",
    pooling_region="370200",
    start_date="2026-11-01",
    employer_id="EMP1",
    employer_name="青岛港湾物流有限公司",
    contribution_base_fen=650000,
)
ENVELOPE = Envelope(EVENT, source="/chs/enrollment", correlation_id="req-1")
RECORD = ENVELOPE.to_record()
QINGDAO_2026 = load_policy("370200", 2026)
DIBAO_ADMISSION = Case(
    Person("390", "370200", frozenset({"dibao"})),
    Visit(
        "inpatient",
        3,
        "370202",
        date(2026, 11, 10),
        date(2026, 11, 18),
        ("C34.9",),
        8_000_000,
        500_000,
    ),
)
SETTLED = dict(
    person_id="p" + "0" * 32,
    settlement_id="S1",
    insutype="390",
    institution_code="H1",
    institution_name="青岛大学附属医院",
    institution_level=3,
    institution_region="370202",
    visit_type="inpatient",
    admission_date=date(2026, 11, 10),
    discharge_date=date(2026, 11, 18),
    discharge_diagnoses=["C34.9"],
    total_fen=8_500_000,
    eligible_fen=8_000_000,
    ineligible_fen=500_000,
    pooled_fund_fen=5_135_000,
    critical_illness_fen=1_374_750,
    medical_assistance_fen=1_043_175,
    personal_cash_fen=947_075,
    invoice_no="I1",
    settled_at=datetime(2026, 11, 18, tzinfo=UTC),
)
LOG_LINE = (
    "staff batch accepted for employer EMP1: person 370202199001011234 mobile "
    "13853212345, request 20261122000000012345678"
)

LOG_RECORD = logging.makeLogRecord(
    {
        "name": "chs_notification.dispatch",
        "levelno": logging.INFO,
        "levelname": "INFO",
        "msg": "sms sent",
        "message_id": "0b7a3c2e-1111-2222-3333-444455556666",
        "notice_id": "N1",
        "mobile": "138****2345",
        "attempts": 1,
    }
)
LOG_FORMATTER = JsonFormatter("notification")


def per_call(operation: Callable[[], object], seconds: float) -> float:
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            operation()
        calls += 100
    return elapsed / calls


def peak_bytes(operation: Callable[[], object], repeat: int = 1000) -> int:
    tracemalloc.start()
    for _ in range(repeat):
        operation()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


CASES = [
    (
        "envelope encode (to_record)",
        lambda: ENVELOPE.to_record(),
        "orjson.dumps(data)",
        lambda: orjson.dumps(EVENT.model_dump(mode="json")),
    ),
    (
        "envelope decode + validate",
        lambda: Envelope.from_record(RECORD.key, RECORD.value, RECORD.headers),
        "orjson.loads(value)",
        lambda: orjson.loads(RECORD.value),
    ),
    (
        "log redaction (redact)",
        lambda: redact(LOG_LINE),
        "str.replace on the line",
        lambda: LOG_LINE.replace("x", "y"),
    ),
    (
        "JSON log line (JsonFormatter)",
        lambda: LOG_FORMATTER.format(LOG_RECORD),
        "orjson.dumps(vars(record))",
        lambda: orjson.dumps(vars(LOG_RECORD), default=str),
    ),
    (
        "person_id (HMAC-SHA256)",
        lambda: derive_person_id(ID_NUMBER, SECRET),
        "sha256 of the ID number",
        lambda: hashlib.sha256(ID_NUMBER.encode()).hexdigest(),
    ),
    (
        "three-tier split (calculate)",
        lambda: calculate(DIBAO_ADMISSION, Accumulators(2026), QINGDAO_2026),
        "SettlementCompleted validation",
        lambda: SettlementCompleted(**SETTLED),
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.5)
    seconds = parser.parse_args().seconds
    header = (
        f"{'operation':32} {'µs/call':>9} {'baseline':28} {'µs/call':>9} {'ratio':>7} "
        f"{'peak KiB/1000':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, operation, baseline_name, baseline in CASES:
        ours, base = per_call(operation, seconds), per_call(baseline, seconds)
        print(
            f"{name:32} {ours * 1e6:9.2f} {baseline_name:28} {base * 1e6:9.2f} "
            f"{ours / base:7.1f} {peak_bytes(operation) / 1024:14.1f}"
        )


if __name__ == "__main__":
    main()
