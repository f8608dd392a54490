"""Topic creation on the real broker: an existing topic whose configs differ from the catalog
(created when domain topics kept 90 days) is altered to match, and only in the catalog's keys."""

import dataclasses

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from chs_events.admin import alter_configs, current_configs, ensure_topics, sync_topics
from chs_events.topics import BY_NAME, DAY_MS, ENROLLMENT_EVENTS, dead_letter_spec

pytestmark = pytest.mark.integration


async def configs_of(bootstrap: str, topic: str, *keys: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return (await current_configs(admin, {topic: dict.fromkeys(keys, "")}))[topic]
    finally:
        await admin.close()


async def test_existing_topics_are_altered_to_the_catalog(kafka_bootstrap, topic_prefix):
    spec = BY_NAME[ENROLLMENT_EVENTS]
    specs = [spec, dead_letter_spec(spec)]
    before = dataclasses.replace(spec, retention_ms=90 * DAY_MS)
    assert await ensure_topics(kafka_bootstrap, topic_prefix, [before, specs[1]]) == [
        f"{topic_prefix}{ENROLLMENT_EVENTS}",
        f"{topic_prefix}{ENROLLMENT_EVENTS}.dlq",
    ]
    topic = f"{topic_prefix}{ENROLLMENT_EVENTS}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:  # a config the catalog does not state, set by an operator
        await alter_configs(admin, {topic: {"max.message.bytes": "2000000"}})
    finally:
        await admin.close()

    changes = await sync_topics(kafka_bootstrap, topic_prefix, specs)

    assert changes.created == []
    assert changes.altered == {topic: {"retention.ms": "-1", "cleanup.policy": "delete"}}
    assert await configs_of(
        kafka_bootstrap, topic, "retention.ms", "cleanup.policy", "max.message.bytes"
    ) == {"retention.ms": "-1", "cleanup.policy": "delete", "max.message.bytes": "2000000"}
    again = await sync_topics(kafka_bootstrap, topic_prefix, specs)
    assert (again.created, again.altered) == ([], {})
