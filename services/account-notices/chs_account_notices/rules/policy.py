"""The account notices' policy data (``policy.json``): the low-balance threshold of each pooling
region, and a default. A region without its own threshold takes its city's (``xxxx00``), then
its province's (``xx0000``), then the default. Amounts in integer fen."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy.json"


@dataclass(frozen=True)
class Policy:
    default_threshold_fen: int
    thresholds_fen: Mapping[str, int] = field(default_factory=dict)

    def threshold_fen(self, region: str | None) -> int:
        """The low-balance threshold of ``region`` (None: not known yet, the default)."""
        if region is not None:
            for code in (region, f"{region[:4]}00", f"{region[:2]}0000"):
                if code in self.thresholds_fen:
                    return self.thresholds_fen[code]
        return self.default_threshold_fen

    @classmethod
    def read(cls, path: Path = POLICY_FILE) -> "Policy":
        data = json.loads(path.read_text(encoding="utf-8"))["low_balance"]
        thresholds = {str(code): int(fen) for code, fen in data["regions"].items()}
        if int(data["default_threshold_fen"]) < 0 or min(thresholds.values(), default=0) < 0:
            raise ValueError(f"{path}: a threshold below 0")
        return cls(int(data["default_threshold_fen"]), MappingProxyType(thresholds))
