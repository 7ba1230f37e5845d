"""JSON Schema generation: one schema file per event type and major version.

Schemas describe what a consumer accepts (pydantic's validation mode). They are rendered with
sorted keys and a trailing newline so that regenerating an unchanged model rewrites nothing.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from driftloop_contracts.envelope import Event
from driftloop_contracts.registry import EVENTS

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "event_schema",
    "generated_schemas",
    "render_json",
    "schema_filename",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect pydantic generates."""


class _ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's generator without per-field titles: descriptions carry the meaning."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_filename(model: type[Event]) -> str:
    """Return the file name of an event's schema, ``<event_type>.v<major>.json``."""
    return f"{model.type_name()}.v{model.major_version()}.json"


def event_schema(model: type[Event]) -> dict[str, Any]:
    """Return the JSON Schema of an event model, with its ``$schema`` dialect.

    Args:
        model: An ``Event`` subclass.

    Returns:
        The schema as a JSON-compatible dict.
    """
    schema = model.model_json_schema(mode="validation", schema_generator=_ContractJsonSchema)
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def render_json(document: Any) -> str:
    """Render a JSON document stably: two-space indent, sorted keys, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_schemas() -> dict[str, str]:
    """Return every registered event's rendered schema, by file name."""
    return {schema_filename(model): render_json(event_schema(model)) for model in EVENTS.values()}
