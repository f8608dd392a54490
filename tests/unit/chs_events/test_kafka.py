"""How the platform's consumers fetch (``kafka.create_consumer``)."""

import pytest

from chs_events.kafka import create_consumer
from chs_events.settings import PlatformSettings

pytestmark = pytest.mark.unit


async def test_a_consumer_fetches_batches_as_the_settings_say():
    settings = PlatformSettings(
        topic_prefix="t-", consumer_fetch_min_bytes=4096, consumer_fetch_max_wait_ms=35
    )
    consumer = create_consumer(settings, "accounts-enrollments", ["chs.enrollment.events"])

    assert consumer._fetch_min_bytes == 4096
    assert consumer._fetch_max_wait_ms == 35
    assert consumer._group_id == "t-accounts-enrollments"
    assert consumer._enable_auto_commit is False
    await consumer.stop()  # never started: releases what the constructor holds


def test_the_broker_waits_only_briefly_for_a_batch_by_default():
    settings = PlatformSettings()

    assert settings.consumer_fetch_min_bytes > 1
    assert 0 < settings.consumer_fetch_max_wait_ms <= 50


@pytest.mark.parametrize("wait", [-1, 501])
def test_a_wait_out_of_bounds_is_refused(wait):
    with pytest.raises(ValueError, match="consumer_fetch_max_wait_ms"):
        PlatformSettings(consumer_fetch_max_wait_ms=wait)
