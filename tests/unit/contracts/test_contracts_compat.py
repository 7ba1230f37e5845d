"""The compatibility check tells breaking schema changes from compatible ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, Field, StrictBool, create_model

from driftloop_contracts import EVENTS, DataEvent, Event, OutcomeEvent, TrainingCompleted
from driftloop_contracts.compat import breaking_changes
from driftloop_contracts.envelope import ContractModel
from driftloop_contracts.schemas import event_schema
from driftloop_contracts.types import Label, Name

pytestmark = pytest.mark.unit

PUBLISHED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "count": {"type": "integer"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "window": {"$ref": "#/$defs/Window"},
    },
    "required": ["id", "window"],
    "$defs": {"Window": {"type": "object", "properties": {"size": {"type": "integer"}}}},
}


def _changed(edit: dict[str, Any]) -> dict[str, Any]:
    current = copy.deepcopy(PUBLISHED)
    for path, value in edit.items():
        *parents, leaf = path.split("/")
        node = current
        for part in parents:
            node = node[part]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return current


def test_identical_schemas_are_compatible() -> None:
    assert breaking_changes(PUBLISHED, copy.deepcopy(PUBLISHED)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"properties/count": None}, "$.count: property removed"),
        ({"properties/count": {"type": "string"}}, "$.count: type changed: integer is no longer"),
        ({"$defs/Window/properties/size": {"type": "string"}}, "$.window.size: type changed"),
        ({"properties/note": {"type": "string"}}, "$.note: type changed: null is no longer"),
        ({"required": ["id", "window", "count"]}, "$.count: optional property became required"),
        (
            {"properties/extra": {"type": "string"}, "required": ["id", "window", "extra"]},
            "$.extra: new required property",
        ),
        ({"properties/id": {"type": "string", "maxLength": 5}}, "$.id: maxLength tightened"),
    ],
)
def test_breaking_changes_are_reported(edit: dict[str, Any], expected: str) -> None:
    changes = breaking_changes(PUBLISHED, _changed(edit))
    assert len(changes) == 1
    assert changes[0].startswith(expected)


@pytest.mark.parametrize(
    "edit",
    [
        {"properties/extra": {"type": "string"}},
        {"properties/count": {"type": "number"}},
        {"properties/count": {"type": ["integer", "null"]}},
        {"properties/id": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        {"required": ["id"]},
        {"properties/note": {}},
    ],
    ids=["new-optional", "int-to-number", "nullable", "union", "now-optional", "any"],
)
def test_compatible_changes_pass(edit: dict[str, Any]) -> None:
    assert breaking_changes(PUBLISHED, _changed(edit)) == []


def test_enum_may_grow_but_not_shrink() -> None:
    old = {"type": "string", "enum": ["a", "b"]}
    assert breaking_changes(old, {"type": "string", "enum": ["a", "b", "c"]}) == []
    assert breaking_changes(old, {"type": "string", "enum": ["a"]}) == [
        '$: type changed: values no longer accepted: "b"'
    ]


def test_recursive_schemas_terminate() -> None:
    tree = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "kids": {
                        "anyOf": [
                            {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                            {"type": "null"},
                        ]
                    }
                },
            }
        },
    }
    assert breaking_changes(tree, copy.deepcopy(tree)) == []


@pytest.mark.parametrize("model", list(EVENTS.values()), ids=lambda m: m.type_name())
def test_every_real_schema_is_compatible_with_itself(model: type[Event]) -> None:
    assert breaking_changes(event_schema(model), event_schema(model)) == []


def _without(model: type[BaseModel], name: str) -> type[BaseModel]:
    fields: Any = {n: (f.annotation, f) for n, f in model.model_fields.items() if n != name}
    return create_model(model.__name__, __base__=ContractModel, **fields)


def _compare(altered: type[BaseModel], original: type[Event] = DataEvent) -> list[str]:
    current = altered.model_json_schema(mode="validation")
    return breaking_changes(event_schema(original), current)


def test_real_model_with_a_removed_field_breaks() -> None:
    assert _compare(_without(DataEvent, "label")) == ["$.label: property removed"]


def test_real_model_with_a_retyped_field_breaks() -> None:
    class Retyped(DataEvent):
        entity_id: int = Field(description="now a number")  # type: ignore[assignment]

    assert _compare(Retyped) == [
        "$.entity_id: type changed: string is no longer accepted (accepts integer)"
    ]


def test_real_model_with_a_narrowed_field_breaks() -> None:
    class Narrowed(DataEvent):
        label: StrictBool | None = Field(default=None, description="now only booleans")

    changes = _compare(Narrowed)
    assert {c.split(" is no")[0] for c in changes} == {
        "$.label: type changed: integer",
        "$.label: type changed: number",
        "$.label: type changed: string",
    }


def test_real_model_with_a_newly_required_field_breaks() -> None:
    class Required(DataEvent):
        label: Label | None = Field(description="now required (still nullable)")

    class NewRequired(DataEvent):
        region: str = Field(description="a new required field")

    assert _compare(Required) == ["$.label: optional property became required"]
    assert _compare(NewRequired) == ["$.region: new required property"]


def test_real_model_with_a_new_optional_field_is_compatible() -> None:
    class NewOptional(DataEvent):
        region: str | None = Field(default=None, description="a new optional field")

    class Widened(OutcomeEvent):
        label: Label | None = Field(description="now nullable")  # type: ignore[assignment]

    assert _compare(NewOptional) == []
    assert _compare(Widened, OutcomeEvent) == []


def test_nested_model_changes_are_found() -> None:
    class Narrower(TrainingCompleted):
        metrics: dict[Name, int] = Field(description="ints only, now required")  # type: ignore[assignment]

    changes = _compare(Narrower, TrainingCompleted)
    assert changes == [
        "$.metrics{}: type changed: number is no longer accepted (accepts integer)",
        "$.metrics: optional property became required",
    ]
