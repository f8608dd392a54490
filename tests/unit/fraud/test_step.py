"""The fraud processor's step (``chs_fraud.app.signals_of``) over in-memory tables: an event
applied to its person's tables, the signals it raised (ids deterministic, so a redelivery
publishes the same signal again)."""

from datetime import date, timedelta
from typing import cast

import pytest
from faust.types import TableT

from chs_events.events.fraud import FraudSignalRaised
from chs_fraud.app import signals_of
from chs_fraud.settings import FraudSettings
from tests.support.tables import InMemoryTable
from tests.unit.fraud import events as ev

pytestmark = pytest.mark.unit

DAY = date(2026, 3, 10)


def test_a_benefit_after_a_death_kept_in_the_tables_is_one_signal() -> None:
    records, benefits = InMemoryTable(), InMemoryTable()
    step = signals_of(
        FraudSettings(), records=cast(TableT, records), benefits=cast(TableT, benefits)
    )
    person = ev.new_person()
    death = ev.envelope(ev.death(person, DAY))
    settled = ev.envelope(ev.settlement(person, DAY + timedelta(days=2)))

    assert tuple(step(death)) == ()
    assert set(records) == {person.encode()}  # the death kept in the person's table
    [signal] = step(settled)
    assert isinstance(signal, FraudSignalRaised)
    assert (signal.person_id, signal.kind) == (person, "benefit_after_death")
    assert set(benefits) == {person.encode()}  # the benefit kept too

    [again] = step(settled)  # redelivered: the same signal, one case
    assert again.signal_id == signal.signal_id
