"""The rules of each SMS category, kept as data (``data/category_rules.json``), and the pure
decision they make for one message: no I/O, the time always given (a clock is the caller's).

Service messages (business results, account notices) go at once, whatever the person's
preference, the hour or how many came before. Every other category (push, broadcast):

- the opt-out register is honoured: a person who opted out (a TD reply, or the app) gets none;
- a cap per person per day and per month, Asia/Shanghai days, counted over the person's
  messages of that category sent or still queued, by the day each goes out;
- no sending in the quiet hours (21:00–08:00): such a message waits for their end, never
  dropped;
- every text, both variants, ends with the carriers' opt-out wording (checked when a template
  is defined, ``templates.model.Template``).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from importlib.resources import files
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Cap:
    per_day: int
    per_month: int


@dataclass(frozen=True)
class CategoryRule:
    """``service``: a service message, exempt from every rule; otherwise ``cap`` applies."""

    category: str
    service: bool
    cap: Cap | None = None


@dataclass(frozen=True)
class QuietHours:
    """From ``start`` to ``end`` in ``zone`` (over midnight when ``start`` is after ``end``)."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, at: datetime) -> datetime:
        """The first end of the quiet hours after ``at`` (the next 08:00)."""
        local = at.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        return end if end > local else end + timedelta(days=1)


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    quiet_hours: QuietHours
    opt_out_wording: str
    categories: Mapping[str, CategoryRule]

    def rule(self, category: str) -> CategoryRule:
        try:
            return self.categories[category]
        except KeyError:
            raise LookupError(f"no rule for the SMS category {category!r}") from None

    def is_service(self, category: str) -> bool:
        return self.rule(category).service

    def goes_out_at(self, category: str, at: datetime) -> datetime:
        """When a message of ``category`` wanted at ``at`` may go: at once, or at the end of
        the quiet hours it falls in."""
        if self.is_service(category) or not self.quiet_hours.contains(at):
            return at
        return self.quiet_hours.end_after(at)

    def day_of(self, at: datetime) -> date:
        """The day (``zone``) a message going out at ``at`` counts in."""
        return at.astimezone(self.zone).date()


class Outcome(StrEnum):
    SEND = "send"
    DEFER = "defer"  # queued until ``Decision.not_before``
    OPTED_OUT = "opted_out"
    CAPPED = "capped"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    not_before: datetime | None = None  # DEFER: the end of the quiet hours
    reason: str | None = None  # OPTED_OUT, CAPPED: what the message records


@dataclass(frozen=True)
class Counts:
    """The person's messages of the category sent or queued in the day and in the month the
    message goes out in (the message itself not among them)."""

    day: int
    month: int


def decide(
    rules: Rules,
    category: str,
    at: datetime,
    *,
    opted_out: bool,
    counts: Counts | None = None,
) -> Decision:
    """What becomes of a message of ``category`` wanted at ``at``: a service message is sent;
    any other is not sent to a person who opted out, nor over its caps (``counts``; None: not
    counted, e.g. when the dispatcher rechecks a message counted when it was queued), and waits
    for the end of the quiet hours it falls in."""
    rule = rules.rule(category)
    if rule.service:
        return Decision(Outcome.SEND)
    if opted_out:
        return Decision(Outcome.OPTED_OUT, reason=f"opted out of {category} messages")
    if counts is not None and rule.cap is not None:
        day = rules.day_of(rules.goes_out_at(category, at))
        if counts.day >= rule.cap.per_day:
            return Decision(
                Outcome.CAPPED,
                reason=f"{rule.cap.per_day} {category} messages a day already on {day}",
            )
        if counts.month >= rule.cap.per_month:
            return Decision(
                Outcome.CAPPED,
                reason=f"{rule.cap.per_month} {category} messages a month already in {day:%Y-%m}",
            )
    not_before = rules.goes_out_at(category, at)
    if not_before != at:
        return Decision(Outcome.DEFER, not_before=not_before)
    return Decision(Outcome.SEND)


def _hhmm(value: str) -> time:
    return time.fromisoformat(value)


def rules_of(data: Mapping[str, Any]) -> Rules:
    """The rules as the data gives them; a cap must be positive and the wording non-empty."""
    zone = ZoneInfo(data["zone"])
    quiet = data["quiet_hours"]
    categories: dict[str, CategoryRule] = {}
    for category, rule in data["categories"].items():
        if rule["service"]:
            categories[category] = CategoryRule(category, service=True)
            continue
        cap = Cap(int(rule["per_day"]), int(rule["per_month"]))
        if not 0 < cap.per_day <= cap.per_month:
            raise ValueError(f"the caps of {category} must be 0 < per_day <= per_month")
        categories[category] = CategoryRule(category, service=False, cap=cap)
    wording = str(data["opt_out_wording"])
    if not wording:
        raise ValueError("no opt-out wording")
    return Rules(
        zone=zone,
        quiet_hours=QuietHours(_hhmm(quiet["start"]), _hhmm(quiet["end"]), zone),
        opt_out_wording=wording,
        categories=MappingProxyType(categories),
    )


def load_rules() -> Rules:
    text = (files("chs_notification") / "data" / "category_rules.json").read_text("utf-8")
    return rules_of(json.loads(text))


RULES = load_rules()
