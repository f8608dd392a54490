"""Invalid input that names the field at fault, for RFC 9457 problem bodies."""


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
