"""Domain errors: what a rule refuses, raised by domain code and handlers, free of HTTP.

``chs_events.problems`` answers each kind as an RFC 9457 problem (``NotFound`` → 404,
``Conflict`` → 409, ``NotPermitted`` → 403, ``Throttled`` → 429, ``Rejected`` and
``InvalidInput`` → 422); a
consumer dead-letters a domain error at once, since retrying cannot change the rule's answer.
"""

from typing import Any


class DomainError(Exception):
    """A rule's refusal: ``detail`` says it, ``extensions`` add machine-readable members (for
    instance ``rule`` or ``status_now``). Subclass one of the kinds below."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    """What the command names does not exist."""


class Conflict(DomainError):
    """The command contradicts the current state (a status, a duplicate, a concurrent change)."""


class NotPermitted(DomainError):
    """The caller may not act on what the command names."""


class Throttled(DomainError):
    """The caller asked for this too often; ``retry_after_seconds`` says when it may again."""


class Rejected(DomainError):
    """A business rule refuses the command as it is."""


class InvalidField(Rejected):
    """One field of the command breaks a rule that its schema cannot state."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(
            f"{field_name}: {reason}", errors=[{"field": field_name, "reason": reason}]
        )


class InvalidInput(ValueError):
    """A value supplied by a caller is not acceptable."""

    def __init__(self, reason: str, field: str) -> None:
        # args stay (reason, field) so the exception survives pickling.
        super().__init__(reason, field)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidIdNumber(InvalidInput):
    """Not a valid 公民身份号码 (GB 11643)."""

    def __init__(self, reason: str, field: str = "id_number") -> None:
        super().__init__(reason, field)


class InvalidMobile(InvalidInput):
    """Not a mobile number of mainland China."""

    def __init__(self, reason: str, field: str = "mobile") -> None:
        super().__init__(reason, field)


class InvalidRegionCode(InvalidInput):
    """Not a known GB/T 2260 region code."""

    def __init__(self, reason: str, field: str = "region_code") -> None:
        super().__init__(reason, field)
