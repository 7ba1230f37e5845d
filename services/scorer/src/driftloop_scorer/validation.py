"""Whether a predict request's fields fit its dataset's spec: every reason, not just the first.

The same rules ingestion applies to a data event's declared fields (presence, null, type,
bounds, length, closed categories); fields the spec does not declare are ignored, as ingestion
leaves them out of the validated event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from driftloop_features import FieldValue
from driftloop_spec import CategoryField, DatasetSpec, FieldSpec, FloatField, IntField, StringField

__all__ = ["field_problems"]

# An integer is a number, but a boolean (a Python int) is never one.
_TYPES: dict[str, tuple[type, ...]] = {
    "float": (int, float),
    "int": (int,),
    "bool": (bool,),
    "string": (str,),
    "category": (str,),
}


def field_problems(spec: DatasetSpec, fields: Mapping[str, FieldValue]) -> list[str]:
    """Every reason ``fields`` do not fit ``spec``, as ``"<field>: <what>"``."""
    problems = (
        _problem(declared, fields[name]) if name in fields else _absent(declared)
        for name, declared in spec.fields.items()
    )
    return [
        f"{name}: {problem}"
        for name, problem in zip(spec.fields, problems, strict=True)
        if problem is not None
    ]


def _absent(declared: FieldSpec) -> str | None:
    return "missing (required)" if declared.required else None


def _problem(declared: FieldSpec, value: FieldValue) -> str | None:
    if value is None:
        return None if declared.nullable else "null (not nullable)"
    if type(value) not in _TYPES[declared.type]:
        return f"{json.dumps(value)} is not of type {declared.type}"
    if isinstance(declared, FloatField | IntField) and isinstance(value, int | float):
        return _outside(value, declared.min, declared.max)
    if isinstance(declared, StringField) and declared.max_length is not None:
        over = len(str(value)) > declared.max_length
        return f"longer than max_length {declared.max_length}" if over else None
    if isinstance(declared, CategoryField) and declared.values is not None:
        return None if value in declared.values else f"{json.dumps(value)} is not an allowed value"
    return None


def _outside(value: float, low: float | None, high: float | None) -> str | None:
    if low is not None and value < low:
        return f"{value} is below the minimum {low}"
    if high is not None and value > high:
        return f"{value} is above the maximum {high}"
    return None
