"""Request-schema field types checked by the platform's own rules, so a 422 names the field and
gives the precise reason (e.g. "check digit is 5, expected 3"); and the bounds of amounts, which
the request schemas and the events share (a request within its bounds makes events within
theirs)."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from chs_events.errors import InvalidInput
from chs_events.identity import (
    normalize_birth_certificate_no,
    normalize_id_number,
    normalize_mobile,
)
from chs_events.regions import region


def checked(normalize: Callable[[str], str]) -> AfterValidator:
    """A validator running a chs_events check; its reason becomes the validation message."""

    def check(value: str) -> str:
        try:
            return normalize(value)
        except InvalidInput as error:
            raise PydanticCustomError(
                f"invalid_{error.field}", "{reason}", {"reason": error.reason}
            ) from None

    return AfterValidator(check)


IdNumber = Annotated[
    str,
    checked(normalize_id_number),
    Field(description="公民身份号码: 18 characters, GB 11643 check digit"),
]
Mobile = Annotated[
    str, checked(normalize_mobile), Field(description="Mainland China mobile number")
]
RegionCode = Annotated[
    str,
    checked(lambda code: region(code).code),
    Field(description="GB/T 2260 region code", examples=["370200"]),
]
# A region code as an event carries it: six digits (its request was checked with ``RegionCode``).
Region = Annotated[str, Field(pattern=r"^\d{6}$")]
BirthCertificateNo = Annotated[
    str,
    checked(normalize_birth_certificate_no),
    Field(description="出生医学证明编号: a letter and 9 digits"),
]

# Every amount of money a request states or an event carries: at most 10^12 fen (10 billion
# yuan). A request whose amounts add up to one amount of an event bounds their sum (``Fen``).
MAX_FEN = 10**12
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN, description="Integer fen (分)")]
PositiveFen = Annotated[int, Field(strict=True, gt=0, le=MAX_FEN, description="Integer fen (分)")]


def check_fen_sum(reason: str, *amounts: int) -> None:
    """A sum of amounts that an event carries as one: ``ValueError`` (a 422 in a request
    schema's validator) past ``MAX_FEN``."""
    if sum(amounts) > MAX_FEN:
        raise ValueError(f"{reason}: more than {MAX_FEN} fen")


PERSON_ID_EXAMPLE = "p3f2a9c41d7e8b6a5c0f1e2d3c4b5a697"
PersonId = Annotated[
    str,
    Field(
        pattern=r"^p[0-9a-f]{32}$",
        examples=[PERSON_ID_EXAMPLE],
        description="The platform's pseudonymous person id",
    ),
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


Reason = TypeVar("Reason", bound=str)


def closed_list(reasons: Mapping[Reason, str], why: str = "Why") -> str:
    """The description of a reason-code field: the codes of its closed list, each with the text
    the SMS tells (no caller-written text reaches an SMS)."""
    listed = "; ".join(f"{code} = {text}" for code, text in reasons.items())
    return f"{why}, from a closed list (the SMS tells its text): {listed}"


def examples(*bodies: dict[str, Any]) -> ConfigDict:
    """The ``model_config`` of a request schema: unknown fields refused, OpenAPI examples."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(bodies)})
