"""The rules of case work and its domain errors (no I/O).

A signal is a lead, not a verdict: an auditor of its region resolves it once, ``confirmed`` with
the amount recovered (at most the amount at stake) or ``dismissed`` with the reason.
"""

from typing import Literal

from chs_events.errors import Conflict, InvalidField, NotFound

Outcome = Literal["confirmed", "dismissed"]
SignalStatus = Literal["open", "confirmed", "dismissed"]
CONFIRMED_REASON = "confirmed by the auditor"  # when a confirmation states no reason


class SignalNotFound(NotFound):
    pass


class AlreadyResolved(Conflict):
    pass


def check_resolution(
    amount_fen: int, outcome: Outcome, recovered_fen: int | None, reason: str | None
) -> tuple[int, str]:
    """The amount recovered and the reason a resolution records."""
    if outcome == "dismissed":
        if recovered_fen:
            raise InvalidField("recovered_fen", "a dismissed signal recovers nothing")
        if not reason:
            raise InvalidField("reason", "a dismissal needs its reason")
        return 0, reason
    if recovered_fen is None:
        raise InvalidField("recovered_fen", "a confirmation states the amount recovered")
    if recovered_fen > amount_fen:
        raise InvalidField("recovered_fen", f"more than the amount at stake ({amount_fen} fen)")
    return recovered_fen, reason or CONFIRMED_REASON
