"""The fraud processor's rules (pure): both arrival orders of each match raise one signal, with
the amount at stake and its evidence; a redelivered event raises nothing new; the state is kept
as bytes between events, as the tables keep it."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

import chs_fraud.rules as rules
from chs_events.envelope import Envelope
from chs_events.events.base import Event
from chs_events.events.fraud import FraudSignalRaised
from chs_fraud.rules.benefits import is_injury
from chs_fraud.rules.signals import signal_id
from chs_fraud.rules.state import (
    Benefits,
    Records,
    dump_benefits,
    dump_records,
    load_benefits,
    load_records,
)
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.unit

DAY = date(2026, 3, 10)


@dataclass
class Person:
    """One person's state through the rules, stored as bytes between events as the tables do."""

    records: bytes = b""
    benefits: bytes = b""
    config: rules.Rules = field(default_factory=rules.Rules)
    raised: list[FraudSignalRaised] = field(default_factory=list)

    def receive(self, event: Event | Envelope) -> tuple[FraudSignalRaised, ...]:
        envelope = event if isinstance(event, Envelope) else ev.envelope(event)
        step = rules.apply(
            envelope.event,
            envelope.id,
            load_records(self.records),
            load_benefits(self.benefits),
            self.config,
        )
        if step.records is not None:
            self.records = dump_records(step.records)
        if step.benefits is not None:
            self.benefits = dump_benefits(step.benefits)
        self.raised += step.signals
        return step.signals

    def signal_ids(self) -> set[str]:
        return {s.signal_id for s in self.raised}


@pytest.fixture
def person_id() -> str:
    return ev.new_person()


def test_a_death_recorded_before_a_settlement_raises_one_signal_on_the_settlement(person_id):
    person = Person()
    assert person.receive(ev.death(person_id, DAY)) == ()
    settled = ev.envelope(ev.settlement(person_id, DAY + timedelta(days=5)))
    [signal] = person.receive(settled)
    assert signal.kind == "benefit_after_death"
    assert signal.amount_fen == 30_000  # pooled fund 24,000 + account 6,000
    assert signal.record_date == DAY and signal.region == "370202"
    [benefit] = signal.benefits
    assert (benefit.kind, benefit.event_id, benefit.service_date) == (
        "settlement",
        settled.id,
        DAY + timedelta(days=5),
    )
    assert benefit.institution_code == ev.HOSPITAL
    assert signal.signal_id == signal_id("benefit_after_death", settled.id)


def test_a_death_recorded_after_the_settlement_sweeps_it_into_the_same_signal(person_id):
    settled = ev.envelope(ev.settlement(person_id, DAY + timedelta(days=5)))
    before, after = Person(), Person()
    recorded = ev.death(person_id, DAY)
    before.receive(recorded)
    before.receive(settled)
    assert after.receive(settled) == ()
    [signal] = after.receive(recorded)
    assert signal == before.raised[0]


def test_a_settlement_on_or_before_the_date_of_death_raises_nothing(person_id):
    person = Person()
    person.receive(ev.settlement(person_id, DAY - timedelta(days=30)))
    person.receive(ev.settlement(person_id, DAY))
    assert person.receive(ev.death(person_id, DAY)) == ()
    on_the_day = ev.settlement(person_id, DAY, institution_code="H37020000001")
    assert person.receive(on_the_day) == ()
    assert person.raised == []


@pytest.mark.parametrize("death_first", [True, False], ids=["death first", "benefit first"])
def test_every_kind_of_benefit_after_death_is_a_signal(person_id, death_first):
    later = DAY + timedelta(days=3)
    submitted = ev.claim(person_id, later)
    benefits = [
        ev.account_opened(person_id),
        ev.debit(person_id, later, amount_fen=8_800),
        ev.allowance_paid(person_id, later, amount_fen=1_200_000),
        submitted,
        ev.claim_paid(submitted, later + timedelta(days=20), amount_fen=31_000),
    ]
    recorded = ev.death(person_id, DAY)
    person = Person()
    for event in [recorded, *benefits] if death_first else [*benefits, recorded]:
        person.receive(event)
    by_kind = {s.benefits[0].kind: s for s in person.raised}
    assert set(by_kind) == {"account_debit", "maternity_allowance", "claim_payment"}
    assert by_kind["account_debit"].amount_fen == 8_800
    assert by_kind["account_debit"].region == "370200"  # the account's pooling region
    assert by_kind["maternity_allowance"].region == "370202"  # none of its own: the death's
    paid = by_kind["claim_payment"]
    assert paid.amount_fen == 31_000 and paid.benefits[0].service_date == later
    assert len(person.raised) == 3


def test_a_claim_for_care_before_the_death_paid_after_it_is_no_signal(person_id):
    person = Person()
    submitted = ev.claim(person_id, DAY - timedelta(days=10))
    person.receive(submitted)
    person.receive(ev.death(person_id, DAY))
    assert person.receive(ev.claim_paid(submitted, DAY + timedelta(days=30))) == ()


def test_a_redelivered_event_raises_the_same_signal_and_nothing_new(person_id):
    person = Person()
    settled = ev.envelope(ev.settlement(person_id, DAY + timedelta(days=1)))
    recorded = ev.envelope(ev.death(person_id, DAY))
    first = person.receive(settled) + person.receive(recorded)
    again = person.receive(recorded) + person.receive(settled) + person.receive(recorded)
    assert {s.signal_id for s in again} == {s.signal_id for s in first}
    assert len(person.signal_ids()) == 1
    assert len(load_benefits(person.benefits).kept) == 1  # kept once


def test_a_correction_to_an_earlier_date_raises_only_what_it_newly_shows(person_id):
    person = Person()
    recorded = ev.death(person_id, DAY)
    person.receive(ev.settlement(person_id, DAY - timedelta(days=5)))  # after the corrected date
    person.receive(ev.settlement(person_id, DAY + timedelta(days=5)))  # after both
    [already] = person.receive(recorded)
    [newly] = person.receive(ev.corrected(recorded, DAY - timedelta(days=10)))
    assert newly.benefits[0].service_date == DAY - timedelta(days=5)
    assert newly.record_date == DAY - timedelta(days=10)
    assert already.benefits[0].service_date == DAY + timedelta(days=5)
    # later benefits are checked against the corrected date
    [late] = person.receive(ev.settlement(person_id, DAY - timedelta(days=8)))
    assert late.record_date == DAY - timedelta(days=10)


def test_a_correction_to_a_later_date_raises_nothing_new(person_id):
    person = Person()
    recorded = ev.death(person_id, DAY)
    person.receive(ev.settlement(person_id, DAY + timedelta(days=5)))
    person.receive(recorded)
    assert person.receive(ev.corrected(recorded, DAY + timedelta(days=7))) == ()
    assert person.receive(ev.settlement(person_id, DAY + timedelta(days=6))) == ()


def test_a_reversed_settlement_raises_nothing_after_its_reversal(person_id):
    person = Person()
    settled = ev.envelope(ev.settlement(person_id, DAY + timedelta(days=2)))
    person.receive(settled)
    person.receive(ev.reversal(settled.event))  # type: ignore[arg-type]
    assert person.receive(ev.death(person_id, DAY)) == ()
    assert person.receive(settled) == ()  # delivered again after its reversal: still nothing
    assert load_benefits(person.benefits).kept == ()


def injury(person_id: str, day: date, **overrides) -> Event:
    return ev.settlement(
        person_id,
        day,
        visit_type="inpatient",
        discharge_date=day + timedelta(days=4),
        discharge_diagnoses=["S82.2", "V43.5"],
        **overrides,
    )


@pytest.mark.parametrize("case_first", [True, False], ids=["case first", "settlement first"])
def test_an_injury_settlement_near_an_accident_is_a_third_party_liability_signal(
    person_id, case_first
):
    case = ev.accident(person_id, DAY)
    settled = injury(person_id, DAY + timedelta(days=1))
    person = Person()
    for event in [case, settled] if case_first else [settled, case]:
        person.receive(event)
    [signal] = person.raised
    assert signal.kind == "third_party_liability"
    assert signal.record_reference == case.case_id and signal.record_date == DAY
    assert signal.amount_fen == 30_000


@pytest.mark.parametrize(
    ("offset", "matched"),
    [(-4, False), (-3, True), (0, True), (30, True), (31, False)],
)
def test_the_accident_window_is_three_days_before_to_thirty_after(person_id, offset, matched):
    person = Person()
    person.receive(ev.accident(person_id, DAY))
    raised = person.receive(injury(person_id, DAY + timedelta(days=offset)))
    assert bool(raised) is matched


def test_the_accident_window_is_configurable(person_id):
    person = Person(config=rules.Rules(accident_days_before=0, accident_days_after=7))
    person.receive(ev.accident(person_id, DAY))
    assert person.receive(injury(person_id, DAY - timedelta(days=1))) == ()
    assert len(person.receive(injury(person_id, DAY + timedelta(days=7)))) == 1


def test_a_settlement_without_an_injury_diagnosis_is_no_third_party_signal(person_id):
    person = Person()
    person.receive(ev.accident(person_id, DAY))
    assert person.receive(ev.settlement(person_id, DAY + timedelta(days=1))) == ()


def test_an_injury_claim_paid_near_an_accident_is_a_signal(person_id):
    person = Person()
    submitted = ev.claim(person_id, DAY + timedelta(days=2), discharge_diagnoses=["T14.9"])
    person.receive(submitted)
    person.receive(ev.claim_paid(submitted, DAY + timedelta(days=40), amount_fen=25_000))
    [signal] = person.receive(ev.accident(person_id, DAY))
    assert signal.amount_fen == 25_000 and signal.benefits[0].kind == "claim_payment"


@pytest.mark.parametrize(
    ("code", "injury"),
    [
        ("S00", True),
        ("S72.001", True),
        ("T98.3", True),
        ("T99", False),
        ("V01.0", True),
        ("V00", False),
        ("X59", True),
        ("Y98", True),
        ("Y99", False),
        ("R69", False),
        ("J06.9", False),
    ],
)
def test_injuries_are_chapters_xix_and_xx(code, injury):
    assert is_injury(code) is injury


@pytest.mark.parametrize("claim_first", [True, False], ids=["claim first", "settlement first"])
def test_the_same_visit_billed_under_another_invoice_is_a_near_duplicate(person_id, claim_first):
    settled = ev.settlement(person_id, DAY)
    submitted = ev.claim(person_id, DAY)
    paid = ev.claim_paid(submitted, DAY + timedelta(days=15), amount_fen=28_000)
    person = Person()
    for event in [submitted, paid, settled] if claim_first else [settled, submitted, paid]:
        person.receive(event)
    [signal] = person.raised
    assert signal.kind == "near_duplicate_bill"
    assert {b.kind for b in signal.benefits} == {"settlement", "claim_payment"}
    assert signal.amount_fen == (30_000 if claim_first else 28_000)  # the later bill's


def test_a_bill_of_another_day_or_the_same_invoice_is_no_near_duplicate(person_id):
    person = Person()
    first = ev.settlement(person_id, DAY)
    person.receive(first)
    assert person.receive(ev.settlement(person_id, DAY + timedelta(days=1))) == ()
    assert person.receive(ev.settlement(person_id, DAY, invoice_no=first.invoice_no)) == ()
    assert person.receive(ev.settlement(person_id, DAY, institution_code="H37020000001")) == ()


def test_benefits_are_kept_for_the_horizon_and_up_to_a_bound(person_id):
    person = Person(config=rules.Rules(horizon_days=365, max_kept=3))
    for days in (0, 100, 200, 300, 500):
        person.receive(ev.debit(person_id, DAY + timedelta(days=days)))
    kept = load_benefits(person.benefits).kept
    assert [k.service_date for k in kept] == [DAY + timedelta(days=d) for d in (200, 300, 500)]


def test_the_state_round_trips_as_bytes(person_id):
    person = Person()
    submitted = ev.claim(person_id, DAY)
    for event in (
        ev.account_opened(person_id),
        injury(person_id, DAY),
        submitted,
        ev.debit(person_id, DAY),
        ev.accident(person_id, DAY),
        ev.death(person_id, DAY + timedelta(days=90)),
    ):
        person.receive(event)
    benefits, records = load_benefits(person.benefits), load_records(person.records)
    assert dump_benefits(benefits) == person.benefits and dump_records(records) == person.records
    assert set(benefits.claims) == {submitted.claim_id}
    assert records.death is not None and len(records.accidents) == 1
    assert load_benefits(None) == Benefits() and load_records(b"") == Records()


def test_the_processor_reads_the_feeds_and_every_benefit_topic():
    assert set(rules.SOURCE_TOPICS) == {
        "chs.feeds.deaths",
        "chs.feeds.accidents",
        "chs.reimbursement.events",
        "chs.account.events",
        "chs.maternity.events",
    }
    assert {m.topic for m in (*rules.RECORD_EVENTS, *rules.BENEFIT_EVENTS)} <= set(
        rules.SOURCE_TOPICS
    )
