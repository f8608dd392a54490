"""The push processor's step over an in-memory table (``chs_push.app``): an event folded into
its person's profile and written back; a batch, through the streams' mechanism, gives each
profile it touched once, as it now is, and a redelivered batch the same profiles again (the
projection keeps the newest revision); a failing step gives nothing for its batch."""

from collections.abc import Sequence
from datetime import date
from typing import cast

import pytest
from faust.types import TableT

from chs_events.envelope import Envelope
from chs_events.processing import BatchFailed
from chs_events.streams import BatchProcessor
from chs_push.app import CONSUMER, Profiles, folded, newest
from chs_push.rules import load
from chs_push.rules.profile import Profile
from chs_push.settings import PushSettings
from tests.support.tables import InMemoryTable
from tests.unit.push import events as ev

pytestmark = pytest.mark.unit


class Recorded:
    """The processor over the step, the profiles it would project recorded instead."""

    def __init__(self, profiles: Profiles) -> None:
        self.written: list[dict[str, Profile]] = []
        self.processor = BatchProcessor(
            PushSettings(), CONSUMER, step=folded(profiles), effect=self.project, dead_letters={}
        )

    async def project(self, caused: Sequence[tuple[Envelope, Profile]]) -> None:
        self.written.append(newest(caused))


def test_an_event_is_folded_into_the_person_s_table_value():
    table = InMemoryTable()
    profiles = Profiles(cast(TableT, table))
    person = ev.new_person()
    registered = ev.envelope(ev.registered(person))
    profile = profiles.fold(registered)
    assert profile is not None and profile.revision == 1
    assert load(table[person.encode()]) == profile
    assert profiles.fold(registered) == profile  # again: the profile as it is, unchanged
    assert profiles.get(person) == profile
    unknown_enrollment = ev.envelope(ev.staff_added(person, "EN-x", "E1"))
    assert profiles.fold(unknown_enrollment) == profile  # changes nothing
    assert load(table[person.encode()]) == profile


async def test_a_batch_projects_each_profile_it_touched_once():
    recorded = Recorded(Profiles(cast(TableT, InMemoryTable())))
    one, other = ev.new_person(), ev.new_person()
    batch = [
        ev.envelope(ev.registered(one)),
        ev.envelope(ev.enrolled(one)),
        ev.envelope(ev.certified(other)),
    ]
    await recorded.processor._apply_all(batch)
    [written] = recorded.written
    assert set(written) == {one, other}
    assert written[one].revision == 2 and written[one].enrolled
    await recorded.processor._apply_all(batch)  # redelivered: the same profiles, nothing new
    assert recorded.written[1] == written


async def test_a_failing_step_writes_nothing_for_its_batch():
    class Broken(InMemoryTable):
        def get(self, key, default=None):
            if key == b"broken":
                raise RuntimeError("the store failed")
            return super().get(key, default)

    recorded = Recorded(Profiles(cast(TableT, Broken())))
    person = ev.new_person()
    broken = ev.envelope(ev.registered("broken"))
    with pytest.raises(BatchFailed) as failed:
        await recorded.processor._apply_all([ev.envelope(ev.registered(person)), broken])
    assert failed.value.index == 1
    assert recorded.written == []
    # one at a time, the person's profile (folded by the failed attempt) is written after all
    await recorded.processor._apply_one(ev.envelope(ev.registered(person)))
    [written] = recorded.written
    assert written[person].birth_date == date(1980, 5, 1)
