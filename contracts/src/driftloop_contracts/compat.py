"""Backward-compatibility check between a published JSON Schema and the current one.

A change is compatible when every message valid under the published schema is still valid under
the current one, so consumers built on the current contract can read everything producers of the
published one send. Adding an optional property or widening a type is compatible; removing a
property, retyping or narrowing one, making an optional property required or adding a required
property is breaking, and needs a new major version (a new ``<event_type>.v2.json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["breaking_changes"]

Schema = Mapping[str, Any]

_ANY: Schema = MappingProxyType({})  # one shared object: comparisons are remembered by id

_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_EXACT = ("pattern", "format", "multipleOf")
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
    dict: "object",
    list: "array",
}


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """List the changes from ``published`` to ``current`` that break existing messages.

    Both schemas are compared structurally, following local ``$ref``s into ``$defs``, through
    ``anyOf``/``oneOf`` unions, object properties, map values and array items.

    Args:
        published: The JSON Schema consumers and producers already rely on.
        current: The JSON Schema the current model generates.

    Returns:
        One message per breaking change, each starting with the path it applies to (``$`` is
        the root, ``$.a.b`` a property, ``$.m{}`` a map value, ``$.l[]`` an array item). Empty
        when the current schema accepts everything the published one did.
    """
    return list(_Comparison(published, current).node(published, current, "$"))


class _Comparison:
    """One comparison between two schema documents, resolving ``$ref`` in each."""

    def __init__(self, published: Schema, current: Schema) -> None:
        self.roots = (published, current)
        self.seen: set[tuple[int, int]] = set()

    def node(self, published: Schema, current: Schema, path: str) -> Iterator[str]:
        if (id(published), id(current)) in self.seen:  # a recursive schema: compared already
            return
        self.seen.add((id(published), id(current)))
        old, new = _variants(published, self.roots[0]), _variants(current, self.roots[1])
        for key, schema in old.items():
            match = _match(key, old, new)
            if match is None:
                accepted = ", ".join(sorted(new)) or "nothing"
                yield f"{path}: type changed: {key} is no longer accepted (accepts {accepted})"
            else:
                yield from self.variant(schema, match, path)

    def variant(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        yield from _values(old, new, path)
        yield from _bounds(old, new, path)
        yield from self.properties(old, new, path)
        yield from self.maps(old, new, path)
        if "items" in old or "items" in new:
            yield from self.node(old.get("items", _ANY), new.get("items", _ANY), f"{path}[]")

    def properties(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, schema in old_props.items():
            if name not in new_props:
                yield f"{path}.{name}: property removed"
            else:
                yield from self.node(schema, new_props[name], f"{path}.{name}")
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(new_required - old_required):
            if name in old_props:
                yield f"{path}.{name}: optional property became required"
            else:
                yield f"{path}.{name}: new required property"

    def maps(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            yield f"{path}: additional properties no longer accepted"
        elif isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            yield from self.node(old_extra, new_extra, f"{path}{{}}")
        yield from self.key_patterns(old, new, path)
        if "propertyNames" in old or "propertyNames" in new:
            old_names, new_names = old.get("propertyNames", _ANY), new.get("propertyNames", _ANY)
            yield from self.node(old_names, new_names, f"{path}{{key}}")

    def key_patterns(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        # pydantic writes constrained map keys as patternProperties: a pattern is a key rule.
        old_patterns, new_patterns = (
            old.get("patternProperties", {}),
            new.get("patternProperties", {}),
        )
        for pattern in new_patterns.keys() - old_patterns.keys():
            yield f"{path}: map keys now restricted to {pattern!r}"
        for pattern in old_patterns.keys() - new_patterns.keys():
            yield f"{path}: map keys matching {pattern!r} are no longer described"
        for pattern in old_patterns.keys() & new_patterns.keys():
            yield from self.node(old_patterns[pattern], new_patterns[pattern], f"{path}{{}}")


def _variants(schema: Schema, root: Schema) -> dict[str, Schema]:
    """Flatten a schema into its alternatives, keyed by JSON type (``any`` when untyped)."""
    if "$ref" in schema:
        return _variants(_resolve(root, schema["$ref"]), root)
    members = schema.get("anyOf") or schema.get("oneOf")
    if members:
        merged: dict[str, Schema] = {}
        for member in members:
            merged.update(_variants(member, root))
        return merged
    types = _types(schema)
    if types == ["any"]:
        return {"any": schema}
    return {_key(kind, schema): {**schema, "type": kind} for kind in types}


def _types(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return list(declared)
    values = _enumerated(schema)
    if values is not None:
        return sorted({_JSON_TYPES.get(type(json.loads(value)), "any") for value in values})
    return ["any"]


def _key(kind: str, schema: Schema) -> str:
    return f"object {schema['title']}" if kind == "object" and "title" in schema else kind


def _match(key: str, old: Mapping[str, Schema], new: Mapping[str, Schema]) -> Schema | None:
    """Find the current alternative that accepts what the published ``key`` alternative did."""
    if key in new:
        return new[key]
    if key == "integer" and "number" in new:
        return new["number"]
    if key.startswith("object") and _objects(old) == 1 and _objects(new) == 1:
        return next(schema for name, schema in new.items() if name.startswith("object"))
    return new.get("any")


def _objects(variants: Mapping[str, Schema]) -> int:
    return sum(1 for name in variants if name.startswith("object"))


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref is supported, got {ref!r}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref {ref!r} does not point at a schema")
    return node


def _enumerated(schema: Schema) -> set[str] | None:
    """Return the allowed values (as canonical JSON) of a const/enum schema, else None."""
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if "enum" in schema:
        return {json.dumps(value, sort_keys=True) for value in schema["enum"]}
    return None


def _values(old: Schema, new: Schema, path: str) -> Iterator[str]:
    old_values, new_values = _enumerated(old), _enumerated(new)
    if new_values is None:
        return
    if old_values is None:
        yield f"{path}: type changed: now restricted to {sorted(new_values)}"
    elif lost := old_values - new_values:
        yield f"{path}: type changed: values no longer accepted: {', '.join(sorted(lost))}"


def _bounds(old: Schema, new: Schema, path: str) -> Iterator[str]:
    for word in _UPPER_BOUNDS:
        if word in new and (word not in old or new[word] < old[word]):
            yield f"{path}: {word} tightened from {old.get(word, 'none')} to {new[word]}"
    for word in _LOWER_BOUNDS:
        if word in new and (word not in old or new[word] > old[word]):
            yield f"{path}: {word} tightened from {old.get(word, 'none')} to {new[word]}"
    for word in _EXACT:
        if word in new and new[word] != old.get(word):
            yield f"{path}: {word} changed from {old.get(word, 'none')!r} to {new[word]!r}"
