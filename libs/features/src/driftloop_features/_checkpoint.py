"""Reading a windows checkpoint back: every key, type and order checked, with its path named."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

__all__ = ["CHECKPOINT_VERSION", "Checkpoint", "CheckpointError", "read_checkpoint"]

CHECKPOINT_VERSION = 1
"""Version of the checkpoint format ``to_checkpoint`` writes and ``from_checkpoint`` reads."""

COUNTERS = ("evictions", "late", "too_late", "duplicates")
"""The state's running counters, in the order ``Checkpoint.counters`` holds them."""

SeriesDoc = tuple[str, list[int], list[float]]
EntityDoc = tuple[str, list[int], list[str], list[SeriesDoc]]


class CheckpointError(ValueError):
    """A document is not a readable windows checkpoint (wrong version, shape or order)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint's content, checked."""

    max_entities: int
    lateness: int
    counters: tuple[int, int, int, int]
    entities: list[EntityDoc]


def read_checkpoint(document: Mapping[str, Any]) -> Checkpoint:
    """Check a checkpoint document and return its content.

    Raises:
        CheckpointError: Naming the first problem and where it is.
    """
    doc = _mapping(document, "checkpoint")
    version = doc.get("version")
    if not _is_int(version) or version != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint version {version!r} is not readable: this code reads version "
            f"{CHECKPOINT_VERSION}"
        )
    max_entities = _whole(doc.get("max_entities"), "max_entities", minimum=1)
    lateness = _whole(doc.get("lateness"), "lateness", minimum=0)
    counts = _mapping(doc.get("counters"), "counters")
    c0, c1, c2, c3 = (_whole(counts.get(k), f"counters.{k}", minimum=0) for k in COUNTERS)
    entities = [
        _entity(e, f"entities[{i}]") for i, e in enumerate(_list(doc.get("entities"), "entities"))
    ]
    if len(entities) > max_entities:
        raise CheckpointError(
            f"entities: {len(entities)} entities, above max_entities {max_entities}"
        )
    ids = [entity[0] for entity in entities]
    if len(set(ids)) != len(ids):
        raise CheckpointError("entities: an entity_id occurs twice")
    return Checkpoint(max_entities, lateness, (c0, c1, c2, c3), entities)


def _entity(value: Any, where: str) -> EntityDoc:
    doc = _mapping(value, where)
    entity_id = doc.get("entity_id")
    if not isinstance(entity_id, str):
        raise CheckpointError(f"{where}.entity_id: expected a string, got {entity_id!r}")
    times = _times(doc.get("times"), f"{where}.times")
    if not times:
        raise CheckpointError(f"{where}.times: an entity holds at least one event")
    ids = _list(doc.get("event_ids"), f"{where}.event_ids")
    if len(ids) != len(times) or not all(isinstance(i, str) for i in ids):
        raise CheckpointError(f"{where}.event_ids: expected one string per time")
    series = [
        _series(s, f"{where}.series[{i}]")
        for i, s in enumerate(_list(doc.get("series"), f"{where}.series"))
    ]
    if len({name for name, _, _ in series}) != len(series):
        raise CheckpointError(f"{where}.series: a field occurs twice")
    return entity_id, times, list(ids), series


def _series(value: Any, where: str) -> SeriesDoc:
    doc = _mapping(value, where)
    name = doc.get("field")
    if not isinstance(name, str):
        raise CheckpointError(f"{where}.field: expected a field name, got {name!r}")
    times = _times(doc.get("times"), f"{where}.times")
    values = _list(doc.get("values"), f"{where}.values")
    if len(values) != len(times):
        raise CheckpointError(f"{where}.values: expected one value per time")
    for index, number in enumerate(values):
        if not (_is_int(number) or isinstance(number, float)) or not math.isfinite(number):
            raise CheckpointError(
                f"{where}.values[{index}]: expected a finite number, got {number!r}"
            )
    return name, times, [float(number) for number in values]


def _times(value: Any, where: str) -> list[int]:
    times = _list(value, where)
    if not all(_is_int(time) for time in times):
        raise CheckpointError(f"{where}: expected whole microseconds")
    if not all(a <= b for a, b in pairwise(times)):
        raise CheckpointError(f"{where}: times must be in event-time order")
    return [int(time) for time in times]  # BSON's Int64 back to int


def _whole(value: Any, where: str, minimum: int) -> int:
    if not _is_int(value) or value < minimum:
        raise CheckpointError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


def _is_int(value: Any) -> bool:
    """An int, BSON's Int64 (a subclass) included, but not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise CheckpointError(f"{where}: expected a list, got {type(value).__name__}")
    return value
