"""Windowed aggregates: per-entity statistics over the entity's recent events.

The feature service keeps, per entity (the data event's ``entity_id``), the events of the last
``window`` by event time, including the current event, and writes one statistic of them. Events
lacking the field are counted by ``count`` and skipped by the others; a window with no values
gives 0.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from driftloop_contracts.types import Name
from driftloop_spec._base import NO_VALUE, spec_problem
from driftloop_spec.durations import Duration, within
from driftloop_spec.feature_base import BaseFeature
from driftloop_spec.fields import NUMERIC_TYPES

__all__ = ["MAX_WINDOW", "AggregateFeature", "AggregateFn"]

AggregateFn = Literal["count", "sum", "mean", "max", "min"]
"""The statistic an aggregate computes."""

MAX_WINDOW = "30d"
"""Longest aggregate window (per-entity state must stay bounded)."""


class AggregateFeature(BaseFeature):
    """A statistic of one entity's events over a trailing time window.

    ``count`` counts the entity's events in the window and reads no field; ``sum``, ``mean``,
    ``max`` and ``min`` read a numeric field (``sum`` and ``mean`` also a boolean one, as 0/1).
    """

    transform: Literal["aggregate"] = Field(description="Always 'aggregate'.")
    fn: AggregateFn = Field(description="'count', 'sum', 'mean', 'max' or 'min'.")
    field: Name | None = Field(
        default=None, description="Field aggregated; none for 'count', required otherwise."
    )
    window: Annotated[Duration, within("1s", MAX_WINDOW)] = Field(
        description="Trailing window by event time, e.g. '1h' or '7d' (at most 30d)."
    )

    @model_validator(mode="after")
    def _field_matches_fn(self) -> Self:
        if self.fn == "count" and self.field is not None:
            raise spec_problem([(("field",), "count reads no field: remove it", self.field)])
        if self.fn != "count" and self.field is None:
            raise spec_problem([(("field",), f"{self.fn} needs a field", NO_VALUE)])
        return self

    def input_refs(self) -> tuple[tuple[str, str], ...]:
        """Return the aggregated field, if any."""
        return () if self.field is None else (("field", self.field),)

    def accepts(self) -> frozenset[str]:
        """Return the numeric types, and ``bool`` for ``sum`` and ``mean``."""
        return NUMERIC_TYPES | {"bool"} if self.fn in ("sum", "mean") else NUMERIC_TYPES
