"""``compute_features``: a dataset spec's features for a batch of data events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftloop_features._columns import Inputs
from driftloop_features._stateless import write_stateless
from driftloop_features.events import DataEventLike
from driftloop_features.windows import Arrival, EntityWindows, WindowResult
from driftloop_spec import AggregateFeature, DatasetSpec

__all__ = ["BatchStats", "FeatureBatch", "compute_features"]


@dataclass(frozen=True, slots=True)
class BatchStats:
    """Counts of one batch, for logs and metrics.

    Attributes:
        events: Events in the batch.
        late: Events inserted into their entity's window out of order, within the lateness.
        too_late: Events more than the lateness behind their entity's newest event: served over
            what the windows still held, and not kept.
        duplicates: Events whose id their entity's window already held (replays): served, not
            counted again.
        evicted: Entities evicted from the windows to stay within ``max_entities``.
        unfilled: Missing values read as 0 because their feature has no ``fill`` (a field the
            spec requires but an event lacks, e.g. one validated against another spec version).
    """

    events: int
    late: int = 0
    too_late: int = 0
    duplicates: int = 0
    evicted: int = 0
    unfilled: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class FeatureBatch:
    """The features of a batch of events: one row per event, in arrival order.

    Attributes:
        columns: Column names, ``spec.feature_columns()``.
        values: float64 array of shape ``(events, columns)``; every value finite.
        event_ids: Event id of each row.
        arrivals: How each event arrived at its entity's windows (all ``on_time`` for a spec
            without aggregates).
        stats: Counts for the batch.
    """

    columns: tuple[str, ...]
    values: npt.NDArray[np.float64]
    event_ids: tuple[str, ...]
    arrivals: tuple[Arrival, ...]
    stats: BatchStats

    def __len__(self) -> int:
        """Number of rows (events)."""
        return len(self.event_ids)

    def row(self, index: int) -> dict[str, float]:
        """Return one event's features by column name, in column order."""
        return dict(zip(self.columns, self.values[index].tolist(), strict=True))


def compute_features(
    spec: DatasetSpec, events: Sequence[DataEventLike], state: EntityWindows
) -> FeatureBatch:
    """Compute a spec's features for a batch of data events.

    Per-event transforms are computed column by column over the whole batch; aggregates go
    through ``state`` event by event, in the order given (arrival order), and update it.

    Args:
        spec: The dataset spec; its ``feature_columns()`` are the output's columns.
        events: Validated data events (``DataValidated``, ``DataRow`` or alike), arrival order.
        state: The per-entity windows the spec's aggregates read and update; untouched when the
            spec has none.

    Returns:
        The feature rows, their column names, each event's arrival and the batch's counts.

    Raises:
        ValueError: If an event time is naive or a numeric field holds a string.
    """
    inputs = Inputs(events)
    columns = spec.feature_columns()
    values = np.empty((inputs.size, len(columns)), dtype=np.float64)
    aggregates: list[AggregateFeature] = []
    slots: list[int] = []
    start = 0
    for feature in spec.features:
        width = len(feature.columns())
        if isinstance(feature, AggregateFeature):
            aggregates.append(feature)
            slots.append(start)
        else:
            write_stateless(feature, inputs, spec.fields, values[:, start : start + width])
        start += width
    windows = _aggregate(aggregates, inputs, state) if aggregates else None
    on_time: Arrival = "on_time"
    arrivals = (on_time,) * inputs.size
    if windows is not None:
        values[:, slots] = windows.values
        arrivals = windows.arrivals
    return FeatureBatch(
        columns=columns,
        values=values,
        event_ids=tuple(inputs.event_ids),
        arrivals=arrivals,
        stats=_stats(inputs, windows),
    )


def _aggregate(
    aggregates: list[AggregateFeature], inputs: Inputs, state: EntityWindows
) -> WindowResult:
    names = {a.field for a in aggregates if a.field is not None}
    return state.serve(
        aggregates,
        inputs.entity_ids,
        inputs.event_ids,
        inputs.times_list,
        {name: inputs.numbers(name).tolist() for name in names},
    )


def _stats(inputs: Inputs, windows: WindowResult | None) -> BatchStats:
    if windows is None:
        return BatchStats(events=inputs.size, unfilled=inputs.unfilled)
    counts = windows.stats
    return BatchStats(
        events=inputs.size,
        late=counts.late,
        too_late=counts.too_late,
        duplicates=counts.duplicates,
        evicted=counts.evicted,
        unfilled=inputs.unfilled,
    )
