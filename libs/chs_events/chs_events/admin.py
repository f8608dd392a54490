"""Creating the catalog's topics on a broker, idempotently."""

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from chs_events.topics import TopicSpec, all_specs

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    specs: list[TopicSpec] | None = None,
    replication_factor: int = 1,
) -> list[str]:
    """Create missing topics with their partitions and configs; returns the names created."""
    specs = all_specs() if specs is None else specs
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="chs-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if f"{prefix}{s.name}" not in existing]
        created = []
        for spec in missing:
            name = f"{prefix}{spec.name}"
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name, spec.partitions, replication_factor, topic_configs=spec.configs
                        )
                    ]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # another process created it meanwhile
        log.info("topics ready", extra={"topics_created": created, "topics_total": len(specs)})
        return created
    finally:
        await admin.close()


def main() -> None:
    """``python -m chs_events.topics create|list|asyncapi``."""
    import argparse
    import asyncio
    import sys

    import orjson

    from chs_events.asyncapi import asyncapi_document
    from chs_events.settings import PlatformSettings

    parser = argparse.ArgumentParser(prog="python -m chs_events.topics")
    parser.add_argument("command", choices=["create", "list", "asyncapi"])
    command = parser.parse_args().command
    settings = PlatformSettings()
    if command == "create":
        created = asyncio.run(ensure_topics(settings.kafka_bootstrap, settings.topic_prefix))
        print(f"{len(all_specs())} topics in the catalog; created {len(created)}")
    elif command == "list":
        for spec in all_specs():
            print(
                f"{settings.topic(spec.name):40} partitions={spec.partitions} "
                f"retention.ms={spec.retention_ms} cleanup={spec.cleanup_policy}"
            )
    else:
        sys.stdout.write(orjson.dumps(asyncapi_document(), option=orjson.OPT_INDENT_2).decode())
