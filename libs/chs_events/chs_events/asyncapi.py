"""The AsyncAPI 3.0 document, generated from the topic catalog and the event models."""

from typing import Any

from chs_events.events import EVENT_TYPES, json_schema
from chs_events.topics import CATALOG


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in CATALOG:
        channel_id = spec.name.replace(".", "_")
        channel_messages = {}
        for ce_type in spec.event_types:
            message_id = ce_type.replace(".", "_")
            model = EVENT_TYPES[ce_type]
            messages[message_id] = {
                "name": ce_type,
                "title": model.__name__,
                "summary": (model.__doc__ or "").strip(),
                "contentType": "application/json",
                "payload": json_schema(model),
                "bindings": {"kafka": {"key": {"type": "string", "description": spec.key}}},
            }
            channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": spec.name,
            "description": spec.description,
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "partitions": spec.partitions,
                    "topicConfiguration": {
                        "retention.ms": spec.retention_ms,
                        "cleanup.policy": [spec.cleanup_policy],
                    },
                }
            },
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{spec.producer} publishes; read by {', '.join(spec.consumers)}",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CHS event platform",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode; key = person_id "
            "(chs.registry.institutions: the institution_code).",
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
