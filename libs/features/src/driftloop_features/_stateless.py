"""Per-event transforms, vectorised over a batch: each writes its columns of the output block.

Missing values follow the spec: ``fill`` for numeric transforms, the unknown bucket for
``one_hot``, -1 for ``ordinal``, 0 for ``compare``. ``log1p`` reads a negative value (possible
only when the field declares no ``min``) as 0, so that every column stays finite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import repeat

import numpy as np
import numpy.typing as npt

from driftloop_features import _clock
from driftloop_features._columns import FloatArray, Inputs
from driftloop_features.events import FieldValue
from driftloop_spec import (
    ClipFeature,
    CompareFeature,
    DayOfWeekFeature,
    FieldSpec,
    HourOfDayFeature,
    Log1pFeature,
    OneHotFeature,
    OrdinalFeature,
    PassthroughFeature,
    StandardScaleFeature,
)
from driftloop_spec.feature_base import BaseFeature
from driftloop_spec.fields import TEXT_TYPES

__all__ = ["write_stateless"]

_OPS: dict[str, Callable[[npt.NDArray[np.generic], npt.NDArray[np.generic]], npt.NDArray[np.bool_]]]
_OPS = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def write_stateless(
    feature: BaseFeature, inputs: Inputs, fields: Mapping[str, FieldSpec], out: FloatArray
) -> None:
    """Write a per-event feature's columns into ``out`` (rows = events, its columns only)."""
    match feature:
        case PassthroughFeature():
            out[:, 0] = inputs.filled(feature.field, feature.fill)
        case Log1pFeature():
            out[:, 0] = np.log1p(np.maximum(inputs.filled(feature.field, feature.fill), 0.0))
        case StandardScaleFeature():
            column = inputs.filled(feature.field, feature.fill)
            out[:, 0] = (column - feature.mean) / feature.std
        case ClipFeature():
            column = inputs.filled(feature.field, feature.fill)
            out[:, 0] = np.clip(column, feature.lower, feature.upper)
        case OneHotFeature():
            out[:] = 0.0
            out[np.arange(inputs.size), _category_index(feature, inputs)] = 1.0
        case OrdinalFeature():
            index = _category_index(feature, inputs)
            out[:, 0] = np.where(index == len(feature.categories), -1, index)
        case CompareFeature():
            out[:, 0] = _compare(feature, inputs, fields)
        case HourOfDayFeature():
            out[:, 0] = _clock.hour_of_day(inputs.times_us, feature.timezone)
        case DayOfWeekFeature():
            out[:, 0] = _clock.day_of_week(inputs.times_us, feature.timezone)
        case _:
            raise TypeError(f"{type(feature).__name__} is not a per-event transform")


def _category_index(
    feature: OneHotFeature | OrdinalFeature, inputs: Inputs
) -> npt.NDArray[np.intp]:
    """Index of each value in the categories; ``len(categories)`` for any other or missing."""
    positions: dict[FieldValue, int] = {c: i for i, c in enumerate(feature.categories)}
    unknown = len(positions)
    # map() drives the dict lookups from C: no Python frame per event.
    found = map(positions.get, inputs.raw(feature.field), repeat(unknown, inputs.size))
    return np.fromiter(found, dtype=np.intp, count=inputs.size)


def _compare(
    feature: CompareFeature, inputs: Inputs, fields: Mapping[str, FieldSpec]
) -> npt.NDArray[np.bool_]:
    """``left op right`` where both are present, else False."""
    left: npt.NDArray[np.generic]
    right: npt.NDArray[np.generic]
    if fields[feature.left].type in TEXT_TYPES:
        left, right = inputs.texts(feature.left), inputs.texts(feature.right)
        present = ~(inputs.absent(feature.left) | inputs.absent(feature.right))
    else:  # numbers, or booleans as 0/1
        left, right = inputs.numbers(feature.left), inputs.numbers(feature.right)
        present = ~(np.isnan(left) | np.isnan(right))
    holds = _OPS[feature.op](left, right)
    return holds & present
