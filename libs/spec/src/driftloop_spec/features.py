"""The features of a dataset spec: one discriminated union over every transform."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from driftloop_spec.aggregates import AggregateFeature, AggregateFn
from driftloop_spec.feature_base import BaseFeature, FieldFeature, NumericFeature
from driftloop_spec.transforms import (
    UNKNOWN,
    ClipFeature,
    CompareFeature,
    DayOfWeekFeature,
    HourOfDayFeature,
    Log1pFeature,
    OneHotFeature,
    OrdinalFeature,
    PassthroughFeature,
    StandardScaleFeature,
)

__all__ = [
    "TRANSFORMS",
    "UNKNOWN",
    "AggregateFeature",
    "AggregateFn",
    "BaseFeature",
    "ClipFeature",
    "CompareFeature",
    "DayOfWeekFeature",
    "Feature",
    "FieldFeature",
    "HourOfDayFeature",
    "Log1pFeature",
    "NumericFeature",
    "OneHotFeature",
    "OrdinalFeature",
    "PassthroughFeature",
    "StandardScaleFeature",
]

Feature = Annotated[
    PassthroughFeature
    | Log1pFeature
    | StandardScaleFeature
    | ClipFeature
    | OneHotFeature
    | OrdinalFeature
    | CompareFeature
    | HourOfDayFeature
    | DayOfWeekFeature
    | AggregateFeature,
    Field(discriminator="transform"),
]
"""A feature, chosen by its ``transform``."""

TRANSFORMS: tuple[str, ...] = (
    "passthrough",
    "log1p",
    "standard_scale",
    "clip",
    "one_hot",
    "ordinal",
    "compare",
    "hour_of_day",
    "day_of_week",
    "aggregate",
)
"""Every transform name, in the order the docs list them."""
