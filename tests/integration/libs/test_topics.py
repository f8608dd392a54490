"""Topic creation on the real broker: an existing topic whose configs differ from the catalog
(created when domain topics kept 90 days) is altered to match, and only in the catalog's keys."""

import dataclasses

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from chs_events.admin import ensure_topics
from chs_events.topics import BY_NAME, DAY_MS, ENROLLMENT_EVENTS, dead_letter_spec

pytestmark = pytest.mark.integration

KEYS = ("retention.ms", "cleanup.policy", "max.message.bytes")


async def configs_of(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    (response,) = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, dict.fromkeys(KEYS))]
    )
    (resource,) = response.to_object()["resources"]
    return {e["config_names"]: e["config_value"] for e in resource["config_entries"]}


async def test_existing_topics_are_altered_to_the_catalog(kafka_bootstrap, topic_prefix):
    spec = BY_NAME[ENROLLMENT_EVENTS]
    specs = [spec, dead_letter_spec(spec)]
    before = dataclasses.replace(spec, retention_ms=90 * DAY_MS)
    topic = f"{topic_prefix}{ENROLLMENT_EVENTS}"
    assert await ensure_topics(kafka_bootstrap, topic_prefix, [before, specs[1]]) == [
        topic,
        f"{topic_prefix}{ENROLLMENT_EVENTS}.dlq",
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        # An operator's config the catalog does not state (the older AlterConfigs resets the
        # topic's others to the broker's defaults).
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": "2000000"})]
        )
        assert (await configs_of(admin, topic))["retention.ms"] != "-1"

        assert await ensure_topics(kafka_bootstrap, topic_prefix, specs) == []

        assert await configs_of(admin, topic) == {
            "retention.ms": "-1",
            "cleanup.policy": "delete",
            "max.message.bytes": "2000000",
        }
    finally:
        await admin.close()
    from chs_events.admin import sync_topics

    again = await sync_topics(kafka_bootstrap, topic_prefix, specs)
    assert (again.created, again.altered) == ([], {})
