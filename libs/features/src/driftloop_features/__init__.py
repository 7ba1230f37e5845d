"""driftloop's feature computation: a dataset spec's features for a batch of data events.

A pure library (no I/O, no asyncio), shared by the feature service (online, per batch), the
trainer (offline) and the scorer's synchronous predict, so every one of them computes the same
numbers. ``compute_features`` turns a batch of validated data events into a float64 matrix in
``spec.feature_columns()`` order; per-event transforms are vectorised with numpy, and windowed
aggregates read and update ``EntityWindows``, a bounded per-entity state that checkpoints to a
plain JSON-compatible document.
"""

from __future__ import annotations

from driftloop_features.batch import BatchStats, FeatureBatch, compute_features
from driftloop_features.events import (
    DataEventLike,
    DataRow,
    FieldValue,
    event_moment,
    event_time_us,
)
from driftloop_features.windows import (
    CHECKPOINT_VERSION,
    Arrival,
    CheckpointError,
    EntityWindows,
    WindowResult,
    WindowStats,
)

__all__ = [
    "CHECKPOINT_VERSION",
    "Arrival",
    "BatchStats",
    "CheckpointError",
    "DataEventLike",
    "DataRow",
    "EntityWindows",
    "FeatureBatch",
    "FieldValue",
    "WindowResult",
    "WindowStats",
    "compute_features",
    "event_moment",
    "event_time_us",
]
