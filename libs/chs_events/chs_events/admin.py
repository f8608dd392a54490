"""Creating the catalog's topics on a broker, idempotently, and keeping their configs as the
catalog states them.

``sync_topics`` creates the missing topics with their partitions and configs, and alters the
configs of existing topics that differ from the catalog (a retention changed in
``chs_events.topics``) with IncrementalAlterConfigs: only the catalog's keys are set, any other
config of the topic is left as it is (the older AlterConfigs would reset them to the defaults).
"""

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

from chs_events.topics import TopicSpec, all_specs

log = logging.getLogger(__name__)

SET = 0  # IncrementalAlterConfigs' config_operation: set the value


class IncrementalAlterConfigsResponse_v0(Response):  # the protocol's names
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "responses",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
            ),
        ),
    )


class IncrementalAlterConfigsRequest_v0(RequestStruct):  # the protocol's names
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                (
                    "configs",
                    Array(
                        ("name", String("utf-8")),
                        ("config_operation", Int8),
                        ("value", String("utf-8")),
                    ),
                ),
            ),
        ),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigsRequest(Request[IncrementalAlterConfigsRequest_v0]):
    """KIP-339 (Kafka 2.3+); aiokafka has only the older AlterConfigs."""

    API_KEY: ClassVar[int] = 44

    def __init__(self, topics: dict[str, dict[str, str]]) -> None:
        self._topics = topics

    def build(
        self, request_struct_class: type[IncrementalAlterConfigsRequest_v0]
    ) -> IncrementalAlterConfigsRequest_v0:
        return request_struct_class(
            [
                (
                    ConfigResourceType.TOPIC.value,
                    name,
                    [(key, SET, value) for key, value in configs.items()],
                )
                for name, configs in self._topics.items()
            ],
            False,
        )


@dataclass(frozen=True)
class TopicChanges:
    created: list[str]
    altered: dict[str, dict[str, str]]  # topic → the configs set (the catalog's values)


async def current_configs(
    admin: AIOKafkaAdminClient, topics: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """The broker's values of the given config keys of each topic."""
    if not topics:
        return {}
    responses = await admin.describe_configs(
        [
            ConfigResource(ConfigResourceType.TOPIC, name, dict.fromkeys(keys))
            for name, keys in topics.items()
        ]
    )
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise for_code(resource["error_code"])(resource["error_message"])
            found[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return found


async def alter_configs(admin: AIOKafkaAdminClient, topics: dict[str, dict[str, str]]) -> None:
    """Set these configs of these topics (IncrementalAlterConfigs), leaving their others."""
    if not topics:
        return
    # aiokafka has no public way to send a request of its own
    response: Any = await admin._send_request(IncrementalAlterConfigsRequest(topics))
    for resource in response.to_object()["responses"]:
        if resource["error_code"]:
            error = for_code(resource["error_code"])
            raise error(f"{resource['resource_name']}: {resource['error_message']}")


async def sync_topics(
    bootstrap: str,
    prefix: str = "",
    specs: list[TopicSpec] | None = None,
    replication_factor: int = 1,
    *,
    tiered_storage: bool = False,
) -> TopicChanges:
    """Create the missing topics with their partitions and configs, and set the configs of the
    existing ones that differ from the catalog."""
    specs = all_specs() if specs is None else specs
    wanted = {f"{prefix}{s.name}": s.topic_configs(tiered_storage=tiered_storage) for s in specs}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="chs-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        created = []
        for spec in specs:
            name = f"{prefix}{spec.name}"
            if name in existing:
                continue
            topic = NewTopic(name, spec.partitions, replication_factor, topic_configs=wanted[name])
            response = await admin.create_topics([topic])
            (answer,) = response.to_object()["topic_errors"]  # aiokafka raises none of them
            error = for_code(answer["error_code"]) if answer["error_code"] else None
            if error is None:
                created.append(name)
            elif error is TopicAlreadyExistsError:
                # Created meanwhile (by another process, or before the broker's list of topics
                # knew it): its configs are checked below.
                existing.add(name)
            else:
                raise error(f"{name}: {answer['error_message']}")
        kept = {name: configs for name, configs in wanted.items() if name in existing}
        on_broker = await current_configs(admin, kept)
        altered = {
            name: configs
            for name, configs in kept.items()
            if any(on_broker.get(name, {}).get(key) != value for key, value in configs.items())
        }
        await alter_configs(admin, altered)
        log.info(
            "topics ready",
            extra={
                "topics_created": created,
                "topics_altered": sorted(altered),
                "topics_total": len(specs),
            },
        )
        return TopicChanges(created, altered)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic whose name starts with ``prefix`` (a test's or a benchmark's stack)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    specs: list[TopicSpec] | None = None,
    replication_factor: int = 1,
) -> list[str]:
    """``sync_topics``; returns the names created."""
    changes = await sync_topics(bootstrap, prefix, specs, replication_factor)
    return changes.created


def main() -> None:
    """``python -m chs_events.topics create [--tiered-storage]|list|asyncapi``."""
    import argparse
    import asyncio
    import sys

    import orjson

    from chs_events.asyncapi import asyncapi_document
    from chs_events.settings import PlatformSettings

    parser = argparse.ArgumentParser(prog="python -m chs_events.topics")
    parser.add_argument("command", choices=["create", "list", "asyncapi"])
    parser.add_argument(
        "--tiered-storage",
        action="store_true",
        help="kept topics with remote.storage.enable=true (brokers with KIP-405 tiered storage)",
    )
    arguments = parser.parse_args()
    command = arguments.command
    settings = PlatformSettings()
    if command == "create":
        changes = asyncio.run(
            sync_topics(
                settings.kafka_bootstrap,
                settings.topic_prefix,
                tiered_storage=arguments.tiered_storage,
            )
        )
        print(
            f"{len(all_specs())} topics in the catalog; created {len(changes.created)}, "
            f"configs altered {len(changes.altered)}"
        )
        for name, configs in sorted(changes.altered.items()):
            print(f"  {name}: " + " ".join(f"{k}={v}" for k, v in sorted(configs.items())))
    elif command == "list":
        for spec in all_specs():
            print(
                f"{settings.topic(spec.name):40} partitions={spec.partitions} "
                f"retention.ms={spec.retention_ms} cleanup={spec.cleanup_policy}  {spec.kept}"
            )
    else:
        sys.stdout.write(orjson.dumps(asyncapi_document(), option=orjson.OPT_INDENT_2).decode())
