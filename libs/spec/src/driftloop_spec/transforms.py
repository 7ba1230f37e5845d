"""Per-event features: transforms of one event's fields and of its event time.

Every transform writes finite floats. A missing value (a field that is absent or null) becomes
``fill`` for numeric transforms, the unknown bucket for ``one_hot``, ``-1`` for ``ordinal`` and
``0`` for ``compare``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StringConstraints, field_validator, model_validator

from driftloop_contracts.types import Name
from driftloop_spec._base import Number, Problem, spec_problem
from driftloop_spec.feature_base import BaseFeature, FieldFeature, NumericFeature
from driftloop_spec.fields import NUMERIC_TYPES, TEXT_TYPES, CategoryValue, FieldSpec

__all__ = [
    "UNKNOWN",
    "ClipFeature",
    "CompareFeature",
    "DayOfWeekFeature",
    "HourOfDayFeature",
    "Log1pFeature",
    "OneHotFeature",
    "OrdinalFeature",
    "PassthroughFeature",
    "StandardScaleFeature",
]

UNKNOWN = "__unknown__"
"""Suffix of a one-hot feature's column for values outside its categories (and missing ones)."""

Categories = Annotated[tuple[CategoryValue, ...], Field(min_length=1, max_length=1024)]


class PassthroughFeature(NumericFeature):
    """The field's value as it is (a boolean becomes 0 or 1)."""

    transform: Literal["passthrough"] = Field(description="Always 'passthrough'.")

    def accepts(self) -> frozenset[str]:
        """Return the numeric types and ``bool``."""
        return NUMERIC_TYPES | {"bool"}


class Log1pFeature(NumericFeature):
    """``log(1 + x)`` of a field whose values are never negative (for skewed amounts)."""

    transform: Literal["log1p"] = Field(description="Always 'log1p'.")

    def check(self, fields: Mapping[str, FieldSpec]) -> list[Problem]:
        """Require the field's declared minimum and ``fill``, where given, to be at least 0."""
        problems = super().check(fields)
        low = getattr(fields[self.field], "min", None)
        if low is not None and low < 0:
            problems.append(
                (
                    ("field",),
                    f"log1p needs values >= 0, but field {self.field!r} allows min {low}",
                    self.field,
                )
            )
        if self.fill is not None and self.fill < 0:
            problems.append((("fill",), "log1p needs fill >= 0", self.fill))
        return problems


class StandardScaleFeature(NumericFeature):
    """``(x - mean) / std`` with a fixed mean and standard deviation."""

    transform: Literal["standard_scale"] = Field(description="Always 'standard_scale'.")
    mean: Number = Field(description="Mean subtracted from the value.")
    std: Annotated[Number, Field(gt=0)] = Field(description="Standard deviation (> 0).")


class ClipFeature(NumericFeature):
    """The field's value limited to ``[lower, upper]``."""

    transform: Literal["clip"] = Field(description="Always 'clip'.")
    lower: Number = Field(description="Values below are raised to it.")
    upper: Number = Field(description="Values above are lowered to it; above lower.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.lower < self.upper:
            raise spec_problem(
                [(("upper",), f"upper must be above lower {self.lower}", self.upper)]
            )
        return self


class _Encoder(FieldFeature):
    """An encoding of a string or category field by a fixed list of categories."""

    categories: Categories = Field(description="The categories, in the order encoded.")

    def accepts(self) -> frozenset[str]:
        """Return the string and category types."""
        return TEXT_TYPES

    @field_validator("categories")
    @classmethod
    def _unique(cls, categories: tuple[str, ...]) -> tuple[str, ...]:
        duplicates = sorted({c for c in categories if categories.count(c) > 1})
        if duplicates:
            raise ValueError(f"categories must be unique; repeated: {duplicates}")
        return categories

    def check(self, fields: Mapping[str, FieldSpec]) -> list[Problem]:
        """Require every category to be an allowed value of a closed category field."""
        allowed = getattr(fields[self.field], "values", None)
        if allowed is None:
            return []
        return [
            (("categories", index), f"not one of the values of field {self.field!r}", value)
            for index, value in enumerate(self.categories)
            if value not in allowed
        ]


class OneHotFeature(_Encoder):
    """One 0/1 column per category, plus one for any other (or missing) value."""

    transform: Literal["one_hot"] = Field(description="Always 'one_hot'.")

    def columns(self) -> tuple[str, ...]:
        """Return ``name:category`` for each category in order, then ``name:__unknown__``."""
        return (*(f"{self.name}:{c}" for c in self.categories), f"{self.name}:{UNKNOWN}")


class OrdinalFeature(_Encoder):
    """The category's index in ``categories``; -1 for any other (or missing) value."""

    transform: Literal["ordinal"] = Field(description="Always 'ordinal'.")


class CompareFeature(BaseFeature):
    """1 if ``left op right`` holds for two fields of the event, else 0 (also when one is missing).

    Numbers compare with any operator; strings, categories and booleans with ``==`` and ``!=``.
    """

    transform: Literal["compare"] = Field(description="Always 'compare'.")
    left: Name = Field(description="Field on the left of the operator.")
    op: Literal["==", "!=", "<", "<=", ">", ">="] = Field(
        description="The comparison (quote it in YAML: '!=' and '>' mean something there)."
    )
    right: Name = Field(description="Field on the right of the operator.")

    def input_refs(self) -> tuple[tuple[str, str], ...]:
        """Return the two fields compared."""
        return (("left", self.left), ("right", self.right))

    def accepts(self) -> frozenset[str]:
        """Return every field type (compatibility of the pair is checked separately)."""
        return NUMERIC_TYPES | TEXT_TYPES | {"bool"}

    def check(self, fields: Mapping[str, FieldSpec]) -> list[Problem]:
        """Require two numbers, or two strings, or two booleans; ordering only for numbers."""
        left, right = _kind(fields[self.left].type), _kind(fields[self.right].type)
        if left != right:
            message = f"cannot compare {left} field {self.left!r} with {right} field {self.right!r}"
            return [(("right",), message, self.right)]
        if left != "number" and self.op not in ("==", "!="):
            return [(("op",), f"{left} fields compare only with '==' or '!='", self.op)]
        return []


def _kind(field_type: str) -> str:
    if field_type in NUMERIC_TYPES:
        return "number"
    return "string" if field_type in TEXT_TYPES else "bool"


Timezone = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]


class _ClockFeature(BaseFeature):
    """The event time (``occurred_at`` of the data event) read on a wall clock."""

    timezone: Timezone = Field(
        default="UTC", description="IANA time zone the clock reads, e.g. 'Europe/Berlin'."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'"
            ) from None
        return name


class HourOfDayFeature(_ClockFeature):
    """The hour of the event time, 0 to 23, in ``timezone``."""

    transform: Literal["hour_of_day"] = Field(description="Always 'hour_of_day'.")


class DayOfWeekFeature(_ClockFeature):
    """The weekday of the event time, 0 (Monday) to 6 (Sunday), in ``timezone``."""

    transform: Literal["day_of_week"] = Field(description="Always 'day_of_week'.")
