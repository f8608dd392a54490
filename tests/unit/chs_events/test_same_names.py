"""Building commands, events and response bodies from objects whose attributes share the fields'
names (``chs_events.attributes``): what is given wins, then the first source that has it."""

from dataclasses import FrozenInstanceError, dataclass, field, fields
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from chs_events.attributes import made_of, same_names
from chs_events.commands import Command
from chs_events.events.account import AccountOpened
from chs_events.fields import closed_list
from chs_events.schemas import PublicModel

pytestmark = pytest.mark.unit


class Revoke(Command):
    filing_id: str
    reason: str | None = None
    at: datetime = field(default=datetime(2026, 1, 1), compare=False)


def test_given_values_win_then_the_first_source_that_has_the_name() -> None:
    first, second = SimpleNamespace(a=1), SimpleNamespace(a=2, b=3)
    assert same_names(["a", "b", "c"], (first, second), {"c": 4}) == {"a": 1, "b": 3, "c": 4}
    assert same_names(["a", "b"], (None, second), {"a": 0}) == {"a": 0, "b": 3}


def test_a_command_is_a_frozen_dataclass_without_a_decorator() -> None:
    command = Revoke("F1")
    assert [f.name for f in fields(command)] == ["filing_id", "reason", "at"]
    assert command == Revoke("F1", at=datetime(2027, 1, 1))  # ``compare=False`` kept
    with pytest.raises(FrozenInstanceError):
        command.filing_id = "F2"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del command.reason


@dataclass(frozen=True)
class Notify(Command):  # decorated as commands once were: the same dataclass
    notice_id: str
    params: dict[str, str] = field(default_factory=dict)
    at: datetime = field(default=datetime(2026, 1, 1), compare=False)


def test_a_command_still_decorated_is_the_same_frozen_dataclass() -> None:
    notice = Notify("N1")
    assert [(f.name, f.compare) for f in fields(Notify)] == [
        ("notice_id", True),
        ("params", True),
        ("at", False),
    ]
    assert notice.params == {} and notice.params is not Notify("N2").params
    assert notice == Notify("N1", at=datetime(2027, 1, 1))
    with pytest.raises(FrozenInstanceError):
        notice.notice_id = "N2"  # type: ignore[misc]


def test_a_command_of_an_event_takes_its_fields_of_the_same_names() -> None:
    event = SimpleNamespace(filing_id="F1", reason="moved", person_id="p1")
    assert Revoke.of(event) == Revoke("F1", "moved")
    assert Revoke.of(event, reason=None) == Revoke("F1")


def test_an_event_of_its_aggregate_is_validated_like_any_other() -> None:
    account = SimpleNamespace(
        person_id="p1",
        account_id="A1",
        enrollment_id="N1",
        pooling_region="370200",
        opened_on=date(2026, 1, 1),
        balance_fen=0,  # not a field of the event: not taken
    )
    assert AccountOpened.of(account) == AccountOpened(
        person_id="p1",
        account_id="A1",
        enrollment_id="N1",
        pooling_region="370200",
        opened_on=date(2026, 1, 1),
    )
    assert AccountOpened.of(account, pooling_region="370100").pooling_region == "370100"
    with pytest.raises(ValidationError):
        AccountOpened.of(SimpleNamespace(person_id="p1"))


def test_a_public_body_of_several_sources() -> None:
    class Body(PublicModel):
        a: int
        b: int | None = None

    assert Body.from_attributes(SimpleNamespace(a=1), SimpleNamespace(a=2, b=3)) == Body(a=1, b=3)
    assert Body.from_attributes(SimpleNamespace(a=1), None) == Body(a=1)


def test_a_closed_list_names_each_code_with_its_text() -> None:
    assert closed_list({"a": "甲", "b": "乙"}) == (
        "Why, from a closed list (the SMS tells its text): a = 甲; b = 乙"
    )
    assert closed_list({"a": "甲"}, "Why a refusal").startswith("Why a refusal, from")


def test_made_of_builds_a_dataclass_of_the_given_values_and_the_sources_same_names():
    @dataclass(frozen=True)
    class Contribution:
        payment_id: str
        period: str
        amount_fen: int = 0

    event = SimpleNamespace(payment_id="P1", period="2026-01", amount_fen=500, other="x")
    assert made_of(Contribution, event) == Contribution("P1", "2026-01", 500)
    assert made_of(Contribution, event, period="2026-02") == Contribution("P1", "2026-02", 500)
    assert made_of(Contribution, SimpleNamespace(payment_id="P2", period="p")).amount_fen == 0
