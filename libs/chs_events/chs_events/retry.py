"""Bounded retries with exponential backoff: one policy for the consumer runner, the stream
processors and the SMS dispatcher."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """``max_attempts`` tries in all (0: no limit, for outages waited out); before try ``n + 1``
    wait ``base_delay · 2^(n−1)`` seconds, at most ``max_delay``."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """The wait after failed try number ``attempt`` (1-based)."""
        # The exponent is capped: 2 ** 10_000 seconds overflows a float and means the cap anyway.
        return min(self.base_delay * 2 ** min(attempt - 1, 62), self.max_delay)

    def exhausted(self, attempt: int) -> bool:
        return 0 < self.max_attempts <= attempt
