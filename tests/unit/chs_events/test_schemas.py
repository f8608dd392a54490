from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from chs_events.errors import NotFound
from chs_events.schemas import ChinaTime, PublicModel
from chs_events.service import found, from_body
from chs_events.vocabulary import CHINA

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Line:
    amount_fen: int
    rule: str


@dataclass(frozen=True)
class Claim:
    claim_id: str
    region: str
    lines: tuple[Line, ...]
    decided_at: datetime
    internal: str = "not shown"


class LinePublic(PublicModel):
    amount_fen: int
    rule: str


class ClaimPublic(PublicModel):
    claim_id: str
    pooling_region: str
    lines: list[LinePublic]
    decided_at: ChinaTime
    note: str | None = None


DECIDED = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
CLAIM = Claim("c1", "370202", (Line(100, "deductible"),), DECIDED)


def test_model_validate_reads_the_attributes_nested_ones_too():
    line = LinePublic.model_validate(Line(100, "deductible"))
    assert line == LinePublic(amount_fen=100, rule="deductible")


def test_from_attributes_takes_the_given_fields_and_the_rest_from_the_object():
    claim = ClaimPublic.from_attributes(CLAIM, pooling_region=CLAIM.region)
    assert claim.claim_id == "c1"
    assert claim.pooling_region == "370202"
    assert claim.lines == [LinePublic(amount_fen=100, rule="deductible")]
    assert claim.note is None  # no such attribute: the default
    assert "internal" not in claim.model_dump()


def test_a_field_neither_given_nor_an_attribute_is_refused():
    with pytest.raises(ValidationError, match="pooling_region"):
        ClaimPublic.from_attributes(CLAIM)


def test_china_time_shows_the_moment_in_shanghai():
    claim = ClaimPublic.from_attributes(CLAIM, pooling_region="370202")
    assert claim.decided_at == DECIDED
    assert claim.decided_at.tzinfo == CHINA
    assert claim.model_dump(mode="json")["decided_at"] == "2026-11-22T09:30:00+08:00"


def test_china_time_refuses_a_naive_moment():
    with pytest.raises(ValidationError):
        ClaimPublic.from_attributes(CLAIM, pooling_region="x", decided_at=datetime(2026, 11, 22))


def test_china_time_is_a_date_time_in_the_schema():
    schema = ClaimPublic.model_json_schema(mode="serialization")
    assert schema["properties"]["decided_at"] == {
        "format": "date-time",
        "title": "Decided At",
        "type": "string",
    }


def test_found_answers_the_value_or_raises_the_not_found():
    assert found(0, NotFound("no zero")) == 0
    with pytest.raises(NotFound, match="no claim c9"):
        found(None, NotFound("no claim c9"))


@dataclass(frozen=True)
class PayClaim:
    claim_id: str
    payment_reference: str
    paid_on: str | None = None


class PayBody(BaseModel):
    payment_reference: str
    comment: str = "not in the command"


def test_from_body_takes_the_fields_of_the_same_names_and_the_given_ones():
    command = from_body(PayClaim, PayBody(payment_reference="BANK-1"), claim_id="c1")
    assert command == PayClaim("c1", "BANK-1")


def test_from_body_given_values_win_over_the_body():
    body = PayBody(payment_reference="BANK-1")
    assert from_body(
        PayClaim, body, claim_id="c1", payment_reference="BANK-2"
    ).payment_reference == ("BANK-2")


def test_from_body_without_a_required_field_fails():
    with pytest.raises(TypeError):
        from_body(PayClaim, PayBody(payment_reference="BANK-1"))
