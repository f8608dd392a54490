"""The account notices' policy data (``policy.json``), amounts in integer fen:

- ``low_balance``: the threshold of each pooling region, and a default;
- ``coalescing``: the regions where a burst of small debits (each at most ``small_debit_fen``)
  within ``window_seconds`` of its first is told as one SMS (off by default: no region listed).

A region's entry is its own, else its city's (``xxxx00``), else its province's (``xx0000``)."""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy.json"


def _codes(region: str | None) -> Iterator[str]:
    """The codes a region's policy is looked up by: its own, its city's, its province's."""
    if region is not None:
        yield from (region, f"{region[:4]}00", f"{region[:2]}0000")


@dataclass(frozen=True)
class Coalescing:
    small_debit_fen: int = 0
    window_seconds: int = 600
    regions: frozenset[str] = frozenset()

    @property
    def anywhere(self) -> bool:
        return bool(self.regions)

    def joins(self, region: str | None, amount_fen: int) -> bool:
        """Whether a debit of ``amount_fen`` in ``region`` joins a burst."""
        return amount_fen <= self.small_debit_fen and any(
            code in self.regions for code in _codes(region)
        )


@dataclass(frozen=True)
class Policy:
    default_threshold_fen: int
    thresholds_fen: Mapping[str, int] = field(default_factory=dict)
    coalescing: Coalescing = Coalescing()

    def threshold_fen(self, region: str | None) -> int:
        """The low-balance threshold of ``region`` (None: not known yet, the default)."""
        for code in _codes(region):
            if code in self.thresholds_fen:
                return self.thresholds_fen[code]
        return self.default_threshold_fen

    @classmethod
    def read(cls, path: Path = POLICY_FILE) -> "Policy":
        data = json.loads(path.read_text(encoding="utf-8"))
        low = data["low_balance"]
        thresholds = {str(code): int(fen) for code, fen in low["regions"].items()}
        if int(low["default_threshold_fen"]) < 0 or min(thresholds.values(), default=0) < 0:
            raise ValueError(f"{path}: a threshold below 0")
        bursts = data.get("coalescing", {})
        coalescing = Coalescing(
            int(bursts.get("small_debit_fen", 0)),
            int(bursts.get("window_seconds", 600)),
            frozenset(str(code) for code in bursts.get("regions", ())),
        )
        if coalescing.window_seconds <= 0 or coalescing.small_debit_fen < 0:
            raise ValueError(f"{path}: a coalescing window or amount out of range")
        return cls(int(low["default_threshold_fen"]), MappingProxyType(thresholds), coalescing)
