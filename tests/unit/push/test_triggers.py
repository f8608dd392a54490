"""Push's event-triggered rules as data (``chs_push/rules/triggers.json``, pure): each rule fires
or does not; its notice is once per person (the same id whatever event fired it, and when
redelivered); an application or a certification of the condition suppresses the
recommendation; the file's conditions are chronic's catalog's, its templates notification's;
an invalid file is refused, and stops the processor at its start."""

import copy
import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest

from chs_chronic.catalog import Icd10Range, load_catalog
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.notices import NoticeRequested, notice_id
from chs_events.topics import BY_NAME, REIMBURSEMENT_EVENTS
from chs_notification.recipients import DIRECTORY_PARAMS
from chs_notification.templates import TEMPLATES, Category
from chs_push import app as push_app
from chs_push.rules.profile import Profile, apply
from chs_push.rules.triggers import (
    InvalidTriggers,
    Triggers,
    load_triggers,
    parse,
    span,
    within,
)
from chs_push.settings import PushSettings
from tests.unit.push import events as ev
from tests.unit.push import trigger_events as tev

pytestmark = pytest.mark.unit

DIABETES, RECOMMENDATION = "chronic.diabetes_policy", "chronic.recommendation"
TRIGGERS = load_triggers()


def profile_of(*events: Event) -> Profile | None:
    profile = None
    for event in events:
        profile = apply(profile, event) or profile
    return profile


def fired(before: Profile | None, event: Event) -> list[NoticeRequested]:
    return TRIGGERS.fired(before, Envelope(event, source=f"/chs/{event.producer}"))


def once(rule_id: str, template_id: str, person: str) -> str:
    return notice_id(f"push-rule:{rule_id}:{person}", template_id, person)


# --- the packaged file -----------------------------------------------------------------------


def data() -> dict[str, Any]:
    text = (files("chs_push.rules") / "triggers.json").read_text(encoding="utf-8")
    return json.loads(text)


def test_the_packaged_rules_load():
    assert {rule.id for rule in TRIGGERS.rules} == {"diabetes-policy", "chronic-recommendation"}
    assert all(rule.once == "person" for rule in TRIGGERS.rules)


def test_the_conditions_are_chronic_s_catalog_s_applied_for():
    catalog = load_catalog()
    assert data()["catalog_version"] == catalog.version
    assert {c.code: (c.name, c.icd10) for c in TRIGGERS.conditions.values()} == {
        c.code: (c.name, c.icd10) for c in catalog.conditions if not c.auto
    }


@pytest.mark.parametrize("rule", TRIGGERS.rules, ids=lambda r: r.id)
def test_each_rule_s_template_is_a_push_of_notification_filled_by_its_params(rule):
    template = TEMPLATES[rule.template_id]
    assert template.category is Category.PUSH
    assert set(rule.params) | (set(DIRECTORY_PARAMS) & set(template.params)) == set(template.params)
    for variant in (template.text, template.elderly_text):
        assert variant.endswith("回TD退订")


def test_the_processor_reads_the_triggers_topics_which_the_catalog_gives_push():
    assert REIMBURSEMENT_EVENTS in push_app.SOURCES
    assert {rule.on for rule in TRIGGERS.rules} <= push_app.TYPES
    for topic in push_app.SOURCES:
        assert "push" in BY_NAME[topic].consumers, topic


@pytest.mark.parametrize(
    "code",
    [
        "I10",
        "I15.9",
        "I16",
        "E11",
        "E11.900X001",
        "E10.2",
        "N18.3",
        "N18.5",
        "D69.3",
        "D69.4",
        "B18.1",
        "B18.2",
        "M05.9",
        "M07",
        "J45",
        "J46",
        "J47",
        "K51.0",
        "H40.1",
        "C34.1",
        "Z94.0",
    ],
)
def test_icd10_ranges_match_as_chronic_s_catalog_does(code):
    for condition in load_catalog().conditions:
        for text in condition.icd10:
            assert within(code, [span(text)]) == Icd10Range.parse(text).contains(code), text


@pytest.mark.parametrize("text", ["", "E1", "I10-", "I15-I10", "I10-I15-I20", "N18-N18.4", "X"])
def test_a_bad_icd10_range_is_refused(text):
    with pytest.raises(ValueError):
        span(text)


# --- the diabetes policy ---------------------------------------------------------------------


def test_a_type_2_diabetes_certification_sends_the_diabetes_policy():
    person = ev.new_person()
    before = profile_of(ev.registered(person), ev.enrolled(person))
    [notice] = fired(before, tev.certified(person, "t2dm"))
    assert notice.person_id == person
    assert notice.template_id == DIABETES
    assert notice.category == "push"
    assert notice.params == {}
    assert notice.notice_id == once("diabetes-policy", DIABETES, person)


@pytest.mark.parametrize("condition", ["t1dm", "hypertension", "malignant_tumour"])
def test_another_certification_sends_nothing(condition):
    person = ev.new_person()
    assert fired(profile_of(ev.registered(person)), tev.certified(person, condition)) == []


def test_the_diabetes_policy_is_once_per_person_whatever_fired_it():
    person = ev.new_person()
    application = tev.applied(person, "t2dm")
    first = tev.certified(person, "t2dm", application_id=application.application_id)
    before = profile_of(ev.registered(person), application)
    [sent] = fired(before, first)
    # redelivered: the profile has it already; judged as the first time, the same notice
    [again] = fired(profile_of(ev.registered(person), application, first), first)
    assert again == sent
    # a renewal (another certification): the same notice id, so notification sends it once
    renewal = tev.certified(person, "t2dm")
    [renewed] = fired(profile_of(ev.registered(person), first), renewal)
    assert renewed.notice_id == sent.notice_id
    # another person's: another notice
    other = ev.new_person()
    [theirs] = fired(None, tev.certified(other, "t2dm"))
    assert theirs.notice_id != sent.notice_id


def test_no_rule_fires_for_a_person_known_dead():
    person = ev.new_person()
    dead = profile_of(ev.registered(person), ev.death(person, tev.DISCHARGED))
    assert fired(dead, tev.certified(person, "t2dm")) == []
    assert fired(dead, tev.settlement(person, "I10")) == []


def test_the_fold_s_own_events_fire_nothing():
    person = ev.new_person()
    assert fired(None, ev.registered(person)) == []
    assert fired(None, tev.applied(person, "t2dm")) == []


# --- the recommendation (智能推荐) --------------------------------------------------------------


def test_a_discharge_diagnosis_of_a_condition_not_applied_for_sends_the_recommendation():
    person = ev.new_person()
    [notice] = fired(profile_of(ev.registered(person)), tev.settlement(person, "I10"))
    assert notice.template_id == RECOMMENDATION
    assert notice.category == "push"
    assert notice.params == {"condition_name": "高血压病"}
    assert notice.notice_id == once("chronic-recommendation", RECOMMENDATION, person)
    # a person push has no profile of yet: the same
    assert fired(None, tev.settlement(person, "I11.9")) == [notice]


@pytest.mark.parametrize(
    "history",
    [
        lambda p: [tev.applied(p, "hypertension")],
        lambda p: [(a := tev.applied(p, "hypertension")), tev.rejected(p, a.application_id)],
        lambda p: [tev.certified(p, "hypertension", diagnoses=("I10",))],
    ],
    ids=["applied", "refused", "certified"],
)
def test_an_application_or_certification_of_the_condition_suppresses_it(
    history: Callable[[str], list[Event]],
):
    person = ev.new_person()
    before = profile_of(ev.registered(person), *history(person))
    assert fired(before, tev.settlement(person, "I10")) == []


def test_the_first_diagnosis_not_held_names_the_condition():
    person = ev.new_person()
    before = profile_of(ev.registered(person), tev.applied(person, "hypertension"))
    [notice] = fired(before, tev.settlement(person, "I10", "J18.9", "E11.9", "I25.1"))
    assert notice.params == {"condition_name": "2型糖尿病"}


def test_another_condition_applied_for_does_not_suppress_it():
    person = ev.new_person()
    before = profile_of(ev.registered(person), tev.applied(person, "copd"))
    [notice] = fired(before, tev.settlement(person, "I10"))
    assert notice.params == {"condition_name": "高血压病"}


@pytest.mark.parametrize(
    "diagnoses",
    [("J18.9",), ("C34.1",), ("N18.5",), ("F20.0", "Z94.0")],
    ids=["no condition", "special: granted without application", "dialysis", "special"],
)
def test_a_diagnosis_of_no_condition_applied_for_sends_nothing(diagnoses):
    person = ev.new_person()
    assert fired(profile_of(ev.registered(person)), tev.settlement(person, *diagnoses)) == []


def test_the_recommendation_is_once_per_person_whatever_settlement_fired_it():
    person = ev.new_person()
    first = fired(None, tev.settlement(person, "I10"))
    later = fired(None, tev.settlement(person, "E11.9"))
    assert [n.notice_id for n in first] == [n.notice_id for n in later]


# --- an invalid file -------------------------------------------------------------------------


def _rule(d: dict, index: int = 1) -> dict:
    return d["rules"][index]


Change = Callable[[dict], object]
INVALID: dict[str, Change] = {
    "unknown event": lambda d: _rule(d).update(on="chs.reimbursement.claim.submitted.v1"),
    "rule id twice": lambda d: _rule(d).update(id=_rule(d, 0)["id"]),
    "bad rule id": lambda d: _rule(d).update(id="Chronic Recommendation"),
    "unknown condition": lambda d: _rule(d, 0)["when"].update(certified=["diabetes"]),
    "bad icd10": lambda d: _rule(d, 0)["when"].update(icd10=["E11-"]),
    "overlap": lambda d: d["conditions"][0].update(icd10=["I10-I25"]),
    "condition twice": lambda d: d["conditions"].append(dict(d["conditions"][0])),
    "unlisted": lambda d: _rule(d)["when"].update(qualifies=["special"]),
    "certified on a settlement": lambda d: _rule(d)["when"].update(certified=["t2dm"]),
    "no criterion": lambda d: _rule(d).update(when={"not_held": True}),
    "not_held, no condition": lambda d: _rule(d, 0).update(
        when={"icd10": ["E11"], "not_held": True}
    ),
    "params, no condition": lambda d: _rule(d, 0).update(
        when={"icd10": ["E11"]}, params={"condition_name": "condition.name"}
    ),
    "a caller's param": lambda d: _rule(d).update(params={"condition_name": "event.reason"}),
    "not once": lambda d: _rule(d).update(once="event"),
    "unknown field": lambda d: _rule(d).update(priority="high"),
    "no rules": lambda d: d.update(rules=[]),
}


@pytest.mark.parametrize("change", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_rules_file_is_refused(change: Change):
    broken = copy.deepcopy(data())
    change(broken)
    with pytest.raises(InvalidTriggers, match="push triggers invalid"):
        Triggers.from_data(broken)


def test_a_file_that_is_not_json_is_refused():
    with pytest.raises(InvalidTriggers, match="not JSON"):
        parse("{rules: }")


def test_an_invalid_rules_file_stops_the_processor_at_its_start(monkeypatch):
    def invalid() -> Triggers:
        return parse("{}")

    monkeypatch.setattr(push_app, "load_triggers", invalid)
    with pytest.raises(InvalidTriggers):
        push_app.create_app(PushSettings())
