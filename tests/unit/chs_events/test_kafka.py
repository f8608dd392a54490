"""How the platform's consumers fetch (``kafka.create_consumer``, ``Subscription.unhurried``)."""

import pytest

from chs_events.consumer import Subscription
from chs_events.kafka import UNHURRIED_FETCH_BYTES, UNHURRIED_FETCH_WAIT_MS, create_consumer
from chs_events.runtime import consumers
from chs_events.settings import PlatformSettings

pytestmark = pytest.mark.unit


async def test_a_group_is_answered_as_soon_as_one_event_is_there():
    consumer = create_consumer(PlatformSettings(topic_prefix="t-"), "accounts-ledger", ["x"])

    assert consumer._fetch_min_bytes == 1
    assert consumer._fetch_max_wait_ms == 500  # aiokafka's: an idle group polls twice a second
    assert consumer._group_id == "t-accounts-ledger"
    assert consumer._enable_auto_commit is False
    await consumer.stop()  # never started: releases what the constructor holds


async def test_an_unhurried_group_gathers_its_events_for_each_fetch():
    consumer = create_consumer(PlatformSettings(), "transfer-enrollments", ["x"], unhurried=True)

    assert consumer._fetch_min_bytes == UNHURRIED_FETCH_BYTES
    assert consumer._fetch_max_wait_ms == UNHURRIED_FETCH_WAIT_MS <= 100
    await consumer.stop()


def test_a_service_s_unhurried_subscription_runs_unhurried():
    runners = consumers(
        [Subscription("quick", ["x"], {}), Subscription("read-model", ["x"], {}, unhurried=True)],
        pool=None,  # never started
        settings=PlatformSettings(),
    )

    assert [runner._unhurried for runner in runners] == [False, True]


@pytest.mark.parametrize(
    "package", ["chs_remote_care", "chs_maternity", "chs_reimbursement", "chs_transfer"]
)
def test_the_enrollment_read_models_are_unhurried(package):
    import importlib

    subscriptions = importlib.import_module(f"{package}.consumers").SUBSCRIPTIONS
    [read_model] = [s for s in subscriptions if s.name.endswith("-enrollments")]

    assert read_model.unhurried
