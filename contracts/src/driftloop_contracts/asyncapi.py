"""AsyncAPI 3.0 document generated from the topic registry.

Every topic becomes a channel (its address, partitions and message), every event a message (its
Kafka key, ``traceparent`` header, payload schema by reference to ``schemas/`` and an example),
and every producer and consumer of a topic an operation (``send`` or ``receive``).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import yaml

from driftloop_contracts.envelope import Event
from driftloop_contracts.schemas import schema_filename
from driftloop_contracts.topics import TOPICS, Topic

__all__ = ["ASYNCAPI_VERSION", "asyncapi_document", "channel_id", "render_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"
"""The AsyncAPI specification version the document follows."""

_KAFKA_BINDING = "0.5.0"

_TRACE_HEADERS = {
    "type": "object",
    "description": "Kafka headers every driftloop record carries.",
    "properties": {
        "traceparent": {
            "type": "string",
            "description": "W3C trace context of the span that produced the record. Trace "
            "context travels only here, never in the payload.",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        },
        "tracestate": {"type": "string", "description": "W3C trace state, when present."},
    },
}


def channel_id(topic: Topic) -> str:
    """Return a topic's channel id: its name without prefix and version, e.g. ``data_validated``."""
    core = topic.name.removeprefix("driftloop.").rsplit(".v", 1)[0]
    return core.replace(".", "_").replace("-", "_")


def asyncapi_document() -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document for every topic in ``TOPICS``, as a plain dict."""
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "A local broker by default; any Kafka cluster works.",
            }
        },
        "channels": {channel_id(topic): _channel(topic) for topic in TOPICS},
        "operations": dict(_operation(topic, who, action) for topic, who, action in _roles()),
        "components": {
            "schemas": {"TraceHeaders": _TRACE_HEADERS},
            "messages": {topic.event.__name__: _message(topic) for topic in TOPICS},
        },
    }


def render_asyncapi() -> str:
    """Render the AsyncAPI document as YAML, in a stable order, ending with a newline."""
    return yaml.safe_dump(
        asyncapi_document(), sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def _info() -> dict[str, Any]:
    try:
        contracts_version = version("driftloop-contracts")
    except PackageNotFoundError:  # running from a source tree without installing
        contracts_version = "0+unknown"
    return {
        "title": "driftloop",
        "version": contracts_version,
        "description": "Every Kafka topic of driftloop: its key, its one event type at one "
        "major version, and which service sends and receives it. Generated from "
        "driftloop_contracts.topics; do not edit by hand.",
    }


def _channel(topic: Topic) -> dict[str, Any]:
    name = topic.event.__name__
    return {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description} Key: {topic.key}.",
        "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _message(topic: Topic) -> dict[str, Any]:
    event: type[Event] = topic.event
    return {
        "name": event.type_name(),
        "title": event.__name__,
        "summary": (event.__doc__ or "").strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/TraceHeaders"},
        "payload": {"$ref": f"./schemas/{schema_filename(event)}"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": topic.key},
                "bindingVersion": _KAFKA_BINDING,
            }
        },
        "examples": [{"name": "example", "payload": event.example().model_dump(mode="json")}],
    }


def _roles() -> Iterator[tuple[Topic, str, str]]:
    for topic in TOPICS:
        yield from ((topic, who, "send") for who in topic.producers)
    for topic in TOPICS:
        yield from ((topic, who, "receive") for who in topic.consumers)


def _operation(topic: Topic, who: str, action: str) -> tuple[str, dict[str, Any]]:
    channel = channel_id(topic)
    name = topic.event.__name__
    verb = "sends" if action == "send" else "receives"
    return f"{who}_{verb}_{channel}", {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "title": f"{who} {verb} {name}",
        "summary": f"{who} {verb} {name} records {'to' if action == 'send' else 'from'} "
        f"{topic.name}.",
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
        "tags": [{"name": who}],
    }
