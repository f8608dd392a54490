"""The push processor's step with its triggers over an in-memory table (``chs_push.app``): an
event → the person's profile and the notices the rules ask for, judged on the profile before
it; a batch redelivered gives the same notices (the same ids); the effect takes the profiles to
the projection and the notices to their publisher."""

from collections.abc import Sequence
from typing import cast

import pytest
from faust.types import TableT

from chs_events.envelope import Envelope
from chs_events.events.notices import NoticeRequested
from chs_events.streams import BatchProcessor, Routed
from chs_push.app import CONSUMER, Profiles, folded, newest
from chs_push.rules.profile import Profile
from chs_push.rules.triggers import load_triggers
from chs_push.settings import PushSettings
from tests.support.tables import InMemoryTable
from tests.unit.push import events as ev
from tests.unit.push import trigger_events as tev

pytestmark = pytest.mark.unit


class Recorded:
    """The processor over the step with the packaged triggers, what it would project and
    publish recorded instead."""

    def __init__(self) -> None:
        self.profiles = Profiles(cast(TableT, InMemoryTable()))
        self.projected: list[dict[str, Profile]] = []
        self.published: list[list[NoticeRequested]] = []
        self.processor = BatchProcessor(
            PushSettings(),
            CONSUMER,
            step=folded(self.profiles, load_triggers()),
            effect=Routed((Profile, self.project), (NoticeRequested, self.publish)),
            dead_letters={},
        )

    async def project(self, caused: Sequence[tuple[Envelope, Profile]]) -> None:
        self.projected.append(newest(caused))

    async def publish(self, caused: Sequence[tuple[Envelope, NoticeRequested]]) -> None:
        self.published.append([notice for _, notice in caused])


async def test_a_batch_projects_its_profiles_and_publishes_the_notices_its_rules_fired():
    recorded = Recorded()
    diabetic, inpatient, applicant = ev.new_person(), ev.new_person(), ev.new_person()
    application = tev.applied(applicant, "hypertension")
    batch = [
        ev.envelope(ev.registered(diabetic)),
        ev.envelope(tev.certified(diabetic, "t2dm")),
        ev.envelope(tev.settlement(inpatient, "I10")),
        ev.envelope(application),
        ev.envelope(tev.settlement(applicant, "I10")),  # applied for in the same batch: none
    ]
    await recorded.processor._apply_all(batch)
    [projected] = recorded.projected
    assert set(projected) == {diabetic, applicant}  # a settlement folds into no profile
    assert projected[applicant].applied_codes == {"hypertension"}
    [notices] = recorded.published
    assert [(n.person_id, n.template_id) for n in notices] == [
        (diabetic, "chronic.diabetes_policy"),
        (inpatient, "chronic.recommendation"),
    ]
    # redelivered (the table has the batch already): the same notices, the same ids
    await recorded.processor._apply_all(batch)
    assert recorded.published[1] == notices
    assert recorded.projected[1] == projected


async def test_one_event_at_a_time_the_same_notice():
    recorded = Recorded()
    person = ev.new_person()
    certification = ev.envelope(tev.certified(person, "t2dm"))
    await recorded.processor._apply_one(certification)
    await recorded.processor._apply_one(certification)
    first, again = recorded.published
    assert first == again and len(first) == 1
    assert recorded.profiles.get(person) is not None


async def test_a_settlement_gives_only_its_notices_its_person_s_profile_is_not_written_again():
    recorded = Recorded()
    person = ev.new_person()
    await recorded.processor._apply_all([ev.envelope(ev.registered(person))])
    await recorded.processor._apply_all([ev.envelope(tev.settlement(person, "J44.1"))])
    assert len(recorded.projected) == 1  # the registration's; the settlement wrote no profile
    [[notice]] = recorded.published
    assert notice.params == {"condition_name": "慢性阻塞性肺疾病"}
