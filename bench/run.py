"""Micro-benchmarks of the per-event hot paths, as ratios against a baseline in the same run.

    make bench        (or: python bench/run.py [--seconds 0.5])

Each row times an operation of ours and a baseline doing the irreducible part of the same job
(e.g. plain orjson for the envelope), and prints both per-call times and their ratio. Ratios
are stable across machines; absolute times are not.
"""
import argparse
import hashlib
import time
import tracemalloc
from collections.abc import Callable

import orjson

from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.identity import derive_person_id
from chs_events.masking import redact

SECRET = b"bench-secret"
ID_NUMBER = "370202199001011237"
EVENT = EnrollmentRegistered(person_id="p" + "0" * 32, enrollment_id="E1", insutype="310",
                             pooling_region="370200", start_date="2026-11-01",
                             employer_id="EMP1", employer_name="青岛港湾物流有限公司",
                             contribution_base_fen=650000)
ENVELOPE = Envelope(EVENT, source="/chs/enrollment", correlation_id="req-1")
RECORD = ENVELOPE.to_record()
LOG_LINE = ("staff batch accepted for employer EMP1: person 370202199001011234 mobile "
            "13853212345, request 20261122000000012345678")


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
    ("envelope encode (to_record)", lambda: ENVELOPE.to_record(),
     "orjson.dumps(data)", lambda: orjson.dumps(EVENT.model_dump(mode="json"))),
    ("envelope decode + validate", lambda: Envelope.from_record(RECORD.key, RECORD.value,
                                                                RECORD.headers),
     "orjson.loads(value)", lambda: orjson.loads(RECORD.value)),
    ("log redaction (redact)", lambda: redact(LOG_LINE),
     "str.replace on the line", lambda: LOG_LINE.replace("x", "y")),
    ("person_id (HMAC-SHA256)", lambda: derive_person_id(ID_NUMBER, SECRET),
     "sha256 of the ID number", lambda: hashlib.sha256(ID_NUMBER.encode()).hexdigest()),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.5)
    seconds = parser.parse_args().seconds
    header = (f"{'operation':32} {'µs/call':>9} {'baseline':28} {'µs/call':>9} {'ratio':>7} "
              f"{'peak KiB/1000':>14}")
    print(header)
    print("-" * len(header))
    for name, operation, baseline_name, baseline in CASES:
        ours, base = per_call(operation, seconds), per_call(baseline, seconds)
        print(f"{name:32} {ours * 1e6:9.2f} {baseline_name:28} {base * 1e6:9.2f} "
              f"{ours / base:7.1f} {peak_bytes(operation) / 1024:14.1f}")


if __name__ == "__main__":
    main()
