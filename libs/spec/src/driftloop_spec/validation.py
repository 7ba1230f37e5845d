"""Is a data event or an outcome valid for its dataset's spec: every problem, not just the first.

Ingestion rejects (dead-letters) what has problems; the scorer's synchronous predict answers them
with a 422. Pure functions over plain values. Fields the spec does not declare are not problems:
they are reported as unknown (ingestion leaves them out of the validated event).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from driftloop_contracts import DataEvent, OutcomeEvent
from driftloop_spec.dataset import DatasetSpec
from driftloop_spec.fields import CategoryField, FieldSpec, FloatField, IntField, StringField
from driftloop_spec.label import LabelSpec

__all__ = [
    "FieldValue",
    "LabelValue",
    "Problem",
    "ProblemKind",
    "Verdict",
    "check_field",
    "check_label",
    "validate_data_event",
    "validate_outcome",
]

ProblemKind = Literal[
    "contract",
    "unknown_dataset",
    "missing_field",
    "null_value",
    "wrong_type",
    "out_of_bounds",
    "too_long",
    "unknown_category",
    "invalid_label",
    "too_large",
]
"""Why an event was rejected, as a short kind for counting and grouping."""

FieldValue = bool | int | float | str | None
LabelValue = bool | int | float | str

_MAX_LISTED = 10  # allowed values named in a reason; the rest are counted

# The JSON values each field or label type takes: an integer is a number, but a boolean (a
# Python int) is never one, and an int takes integers only (3, not 3.0).
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "float": (int, float),
    "int": (int,),
    "bool": (bool,),
    "string": (str,),
    "category": (str,),
}
_EXPECTED = {
    "float": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "string": "a string",
    "category": "a string",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an event is invalid: its kind, where (a field, the label, ...) and what."""

    kind: ProblemKind
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every problem an event has (none: it is valid) and the fields the spec does not know."""

    problems: tuple[Problem, ...] = ()
    unknown_fields: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        """All problems in one line, ``; ``-separated (what a dead letter's reason says)."""
        return "; ".join(map(str, self.problems))

    @property
    def kinds(self) -> tuple[ProblemKind, ...]:
        """The distinct problem kinds, in order of first appearance."""
        return tuple(dict.fromkeys(p.kind for p in self.problems))

    @property
    def error_type(self) -> str:
        """The dead letter's ``error_type``: ``too_large``, ``unknown_dataset`` or ``spec``."""
        kinds = self.kinds
        return kinds[0] if kinds and kinds[0] in ("too_large", "unknown_dataset") else "spec"

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"{name}: unknown field, not in the spec (left out)" for name in self.unknown_fields
        )


def validate_data_event(spec: DatasetSpec | None, event: DataEvent) -> Verdict:
    """Check a data event against its dataset's spec (``None``: no spec is applied)."""
    if spec is None:
        return Verdict((_unknown_dataset(event.dataset),))
    problems = [
        problem
        for name, declared in spec.fields.items()
        if (problem := check_field(name, declared, event.fields)) is not None
    ]
    if event.label is not None:
        problems += check_label(spec.label, event.label)
    unknown = tuple(name for name in event.fields if name not in spec.fields)
    return Verdict(tuple(problems), unknown)


def validate_outcome(spec: DatasetSpec | None, event: OutcomeEvent) -> Verdict:
    """Check an outcome: its dataset has a spec and its label fits the spec's label."""
    if spec is None:
        return Verdict((_unknown_dataset(event.dataset),))
    return Verdict(tuple(check_label(spec.label, event.label)))


def _unknown_dataset(dataset: str) -> Problem:
    return Problem("unknown_dataset", "dataset", f"no spec is applied for {_show(dataset)}")


def check_field(name: str, declared: FieldSpec, fields: Mapping[str, FieldValue]) -> Problem | None:
    """The problem with field ``name`` of an event's ``fields``, if any."""
    if name not in fields:
        return Problem("missing_field", name, "missing (required)") if declared.required else None
    value = fields[name]
    if value is None:
        return None if declared.nullable else Problem("null_value", name, "null (not nullable)")
    message = _type_error(declared, value)
    if message is not None:
        return Problem("wrong_type", name, message)
    return _value_problem(name, declared, value)


def _type_error(declared: FieldSpec, value: bool | int | float | str) -> str | None:
    if type(value) in _ACCEPTS[declared.type]:
        return None
    return f"expected {_EXPECTED[declared.type]}, got {_described(value)}"


def _value_problem(
    name: str, declared: FieldSpec, value: bool | int | float | str
) -> Problem | None:
    if isinstance(declared, FloatField | IntField) and not isinstance(value, bool | str):
        return _bounds(name, value, declared.min, declared.max)
    if isinstance(declared, StringField) and isinstance(value, str):
        limit = declared.max_length
        if limit is not None and len(value) > limit:
            return Problem("too_long", name, f"{len(value)} characters, over max_length {limit}")
    allowed = declared.values if isinstance(declared, CategoryField) else None
    if allowed is not None and value not in allowed:
        message = f"{_show(value)} is not one of {_listing(allowed)}"
        return Problem("unknown_category", name, message)
    return None


def _bounds(
    name: str, value: int | float, low: int | float | None, high: int | float | None
) -> Problem | None:
    if low is not None and value < low:
        return Problem("out_of_bounds", name, f"{_show(value)} is below the minimum {_show(low)}")
    if high is not None and value > high:
        return Problem("out_of_bounds", name, f"{_show(value)} is above the maximum {_show(high)}")
    return None


def check_label(spec: LabelSpec, label: LabelValue) -> list[Problem]:
    """The problems of ``label`` for the spec's label: its type, and a classifier's classes."""
    if type(label) not in _ACCEPTS[spec.type]:
        message = f"expected {_EXPECTED[spec.type]}, got {_described(label)}"
        return [Problem("invalid_label", "label", message)]
    classes = spec.classes or ()
    if classes and not any(type(c) is type(label) and c == label for c in classes):
        message = f"{_show(label)} is not one of the classes {_listing(classes)}"
        return [Problem("invalid_label", "label", message)]
    return []


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _described(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    return f"{names.get(type(value), type(value).__name__)} {_show(value)}"


def _listing(values: tuple[object, ...]) -> str:
    shown = ", ".join(_show(v) for v in values[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return f"[{shown}{f', ... ({more} more)' if more > 0 else ''}]"
