"""Event-triggered push rules, kept as data in ``triggers.json`` and validated at load (pure).

A rule fires on one event type (``on``) when its condition (``when``) holds for the event and
the person's profile as it was before it, and asks notification for one push
(``NoticeRequested``, category ``push``) of its template, **once per person**: the notice id is
``notice_id(f"push-rule:{rule_id}:{person_id}", template_id, person_id)``, whatever the event
that fired it, so notification sends it once however often the rule fires (a redelivery, a
second certification, another settlement). Notification applies the opt-out, the caps and the
quiet hours to it, as to any push; a rule fires for no one the profile knows to be dead.

``when`` (every criterion given must hold; at least one of the first three):

- ``certified``: condition codes or categories (``rules.conditions``): the condition the event
  (a ``ChronicCertified``) certifies is one of them;
- ``icd10``: ICD-10 ranges (``E11``, ``I10-I15``, ``N18.1-N18.4``): a diagnosis of the event (a
  certification's, a settlement's discharge diagnoses) is in one of them;
- ``qualifies``: condition codes or categories of the file's ``conditions`` (chronic's catalog,
  its conditions applied for: the ones granted without application are left out): a
  diagnosis of the event is in one's ICD-10 ranges; the first such diagnosis (the main one
  first) names the rule's condition;
- ``not_held``: the person has neither applied for the rule's condition (any application,
  whatever its outcome) nor a certification of it in force. What the event itself brings (its
  certification, its application) is not counted, so a redelivered event, found already in
  the profile, is judged as the first time.

``params``: each template param filled from the rule's condition (``condition.name``: the
catalog's name, a fixed vocabulary; ``condition.code``), never from a caller's words; the
greeting (``name``) is notification's, from its directory.

ICD-10 ranges match the code without its dot, cut to the length of the range's ends: ``E11``
holds E11 and E11.9, ``I10-I15`` holds I11.0, ``N18.1-N18.4`` holds N18.3 and not N18.5 (as
chronic's catalog; ``tests/unit/push/test_triggers.py`` checks the conditions against it).
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.chronic import ChronicCertified
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.events.reimbursement import SettlementCompleted
from chs_push.rules import conditions
from chs_push.rules.profile import Profile

# The event types a rule may fire on, and the topics the processor reads for them beside the
# profile's (the catalog lists push among their consumers).
ON: Mapping[str, type[Event]] = {
    model.ce_type: model for model in (ChronicCertified, SettlementCompleted)
}
TYPES = frozenset(ON)
TOPICS = tuple(sorted({model.topic for model in ON.values()}))

_ICD10 = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z]{0,8}$")
Span = tuple[str, str]  # the two ends of an ICD-10 range, without their dots


class InvalidTriggers(ValueError):
    pass


def _undotted(code: str) -> str | None:
    flat = code.strip().upper().replace(".", "", 1)
    return flat if _ICD10.fullmatch(flat) else None


def span(text: str) -> Span:
    """``I10-I15`` → ("I10", "I15"); ``ValueError`` for anything else than a range of codes of
    one chapter letter and one precision, in order."""
    ends = [_undotted(end) for end in text.split("-")]
    low, high = (ends[0], ends[-1]) if len(ends) in (1, 2) else (None, None)
    if low is None or high is None:
        raise ValueError(f"{text!r} is not an ICD-10 code or range (E11, I10-I15)")
    if len(low) != len(high) or low[0] != high[0] or low > high:
        raise ValueError(f"{text!r}: its ends must be in order, of one letter and precision")
    return low, high


def within(code: str, spans: Iterable[Span]) -> bool:
    """The diagnosis ``code`` (E11.9, e11, …) is in one of the ranges."""
    flat = _undotted(code)
    return flat is not None and any(
        len(flat) >= len(low) and low <= flat[: len(low)] <= high for low, high in spans
    )


def _known(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    unknown = [n for n in names or () if n not in conditions.CODES | conditions.CATEGORIES.keys()]
    if unknown:
        raise ValueError(f"not a condition code or category: {', '.join(unknown)}")
    return names


def _ranges(texts: tuple[str, ...] | None) -> tuple[str, ...] | None:
    for text in texts or ():
        span(text)
    return texts


class Condition(BaseModel):
    """A condition a diagnosis may qualify for, as chronic's catalog names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str = Field(min_length=1, max_length=40)
    icd10: tuple[str, ...] = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _code_known(cls, code: str) -> str:
        _known((code,))
        return code

    @field_validator("icd10")
    @classmethod
    def _icd10_ranges(cls, texts: tuple[str, ...]) -> tuple[str, ...]:
        _ranges(texts)
        return texts

    @property
    def spans(self) -> tuple[Span, ...]:
        return tuple(span(text) for text in self.icd10)


class When(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    certified: tuple[str, ...] | None = Field(default=None, min_length=1)
    icd10: tuple[str, ...] | None = Field(default=None, min_length=1)
    qualifies: tuple[str, ...] | None = Field(default=None, min_length=1)
    not_held: bool = False

    @field_validator("certified", "qualifies")
    @classmethod
    def _names_known(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _known(names)

    @field_validator("icd10")
    @classmethod
    def _icd10_ranges(cls, texts: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _ranges(texts)

    @model_validator(mode="after")
    def _something(self) -> "When":
        if self.certified is None and self.icd10 is None and self.qualifies is None:
            raise ValueError("a rule needs certified, icd10 or qualifies")
        if self.not_held and self.certified is None and self.qualifies is None:
            raise ValueError("not_held needs the condition of certified or qualifies")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,47}$")
    description: str = Field(min_length=1)
    on: str
    when: When
    template_id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    params: dict[str, Literal["condition.name", "condition.code"]] = Field(default_factory=dict)
    once: Literal["person"]

    @field_validator("on")
    @classmethod
    def _supported(cls, on: str) -> str:
        if on not in ON:
            raise ValueError(f"a rule fires on one of {', '.join(sorted(ON))}")
        return on

    @model_validator(mode="after")
    def _fits_its_event(self) -> "Rule":
        if self.when.certified is not None and ON[self.on] is not ChronicCertified:
            raise ValueError(f"certified is a criterion of {ChronicCertified.ce_type} only")
        return self


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    version: str
    catalog_version: str
    conditions: tuple[Condition, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "_File":
        codes = [c.code for c in self.conditions]
        for seen in (codes, [r.id for r in self.rules]):
            twice = sorted({x for x in seen if seen.count(x) > 1})
            if twice:
                raise ValueError(f"listed twice: {', '.join(twice)}")
        spans = [(c.code, s) for c in self.conditions for s in c.spans]
        for index, (first, (low, high)) in enumerate(spans):
            for second, (other_low, other_high) in spans[index + 1 :]:
                size = min(len(low), len(other_low))
                if low[:size] <= other_high[:size] and other_low[:size] <= high[:size]:
                    raise ValueError(f"ICD-10 ranges overlap: {first} and {second}")
        for rule in self.rules:
            named = conditions.codes_of(rule.when.qualifies or ())
            if rule.params:
                named |= conditions.codes_of(rule.when.certified or ())
            missing = sorted(named - set(codes))
            if missing:
                raise ValueError(f"rule {rule.id} names conditions not listed: {missing}")
            if rule.params and rule.when.certified is None and rule.when.qualifies is None:
                raise ValueError(f"rule {rule.id}: its params need a condition")
        return self


@dataclass(frozen=True)
class Trigger:
    """One rule, compiled: its codes expanded, its ranges parsed."""

    rule: Rule
    certified: frozenset[str] | None
    spans: tuple[Span, ...] | None
    qualifies: frozenset[str] | None

    def condition(
        self, triggers: "Triggers", before: Profile | None, event: Event
    ) -> tuple[bool, Condition | None]:
        """Whether it fires on ``event`` for the person ``before`` it, and its condition."""
        when = self.rule.when
        held = _held(before, event) if when.not_held else frozenset()
        diagnoses = _diagnoses(event)
        found: Condition | None = None
        if self.certified is not None:
            code = event.condition_code if isinstance(event, ChronicCertified) else None
            if code is None or code not in self.certified or code in held:
                return False, None
            found = triggers.conditions.get(code)
        if self.spans is not None and not any(within(d, self.spans) for d in diagnoses):
            return False, None
        if self.qualifies is not None:
            found = next(
                (
                    c
                    for c in map(triggers.condition_of, diagnoses)
                    if c is not None and c.code in self.qualifies and c.code not in held
                ),
                None,
            )
            if found is None:
                return False, None
        return True, found


def _diagnoses(event: Event) -> list[str]:
    if isinstance(event, SettlementCompleted):
        return list(event.discharge_diagnoses)
    if isinstance(event, ChronicCertified):
        return event.diagnosis_codes
    return []


def _held(profile: Profile | None, event: Event) -> frozenset[str]:
    """The conditions the person applied for or holds, but for what ``event`` brings."""
    if profile is None:
        return frozenset()
    own = {getattr(event, "certification_id", None), getattr(event, "application_id", None)}
    return frozenset(
        code
        for pairs in (profile.applications, profile.conditions)
        for key, code in pairs
        if key not in own
    )


class Triggers:
    """The rules of a file, by the event type they fire on."""

    def __init__(self, parsed: _File) -> None:
        self.version = parsed.version
        self.rules = parsed.rules
        self.conditions: Mapping[str, Condition] = {c.code: c for c in parsed.conditions}
        self._spans = [(c, c.spans) for c in parsed.conditions]
        self._on: dict[str, list[Trigger]] = {}
        for rule in parsed.rules:
            when = rule.when
            self._on.setdefault(rule.on, []).append(
                Trigger(
                    rule,
                    None if when.certified is None else conditions.codes_of(when.certified),
                    None if when.icd10 is None else tuple(span(t) for t in when.icd10),
                    None if when.qualifies is None else conditions.codes_of(when.qualifies),
                )
            )

    @classmethod
    def from_data(cls, data: Any) -> "Triggers":
        try:
            return cls(_File.model_validate(data))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                for e in error.errors()
            )
            raise InvalidTriggers(f"push triggers invalid: {problems}") from None

    def condition_of(self, diagnosis: str) -> Condition | None:
        """The condition whose ranges hold the diagnosis (no two share a code), or None."""
        return next((c for c, spans in self._spans if within(diagnosis, spans)), None)

    def fired(self, before: Profile | None, source: Envelope | Event) -> list[NoticeRequested]:
        """The notices the rules on this event's type ask for, the person's profile ``before``
        the event (``None``: not known yet)."""
        event = source.event if isinstance(source, Envelope) else source
        rules = self._on.get(event.ce_type)
        if not rules or (before is not None and not before.alive):
            return []
        person = event.person_id
        notices = []
        for trigger in rules:
            fires, condition = trigger.condition(self, before, event)
            if not fires:
                continue
            rule = trigger.rule
            params = {
                name: condition.name if value == "condition.name" else condition.code
                for name, value in rule.params.items()
                if condition is not None
            }
            notices.append(
                NoticeRequested(
                    person_id=person,
                    notice_id=notice_id(f"push-rule:{rule.id}:{person}", rule.template_id, person),
                    template_id=rule.template_id,
                    params=params,
                    category="push",
                )
            )
        return notices


def parse(text: str) -> Triggers:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidTriggers(f"push triggers invalid: not JSON ({error})") from None
    return Triggers.from_data(data)


@cache
def load_triggers() -> Triggers:
    """The packaged rules (``triggers.json``), validated once per process; ``InvalidTriggers``
    stops the processor at its start."""
    return parse((files("chs_push.rules") / "triggers.json").read_text(encoding="utf-8"))
