"""Per-entity windows: the online state behind a spec's aggregate features.

For each entity the state holds the event times it has accepted (sorted by event time, with
their event ids) and, per aggregated field, the ``(time, value)`` pairs of the events that
carried it. An aggregate over ``window`` seconds at event time ``t`` is computed from the events
with times in ``(t - window, t]``: an event exactly ``window`` older is outside, the current event
and any earlier-arrived event at the same time are inside. Statistics are recomputed over that
slice (``bisect`` finds it) rather than kept as running sums: a sum is then the sum of exactly
the window's values in event-time order, so it depends on nothing but the window's content, not
on which events came and went before it or on a checkpoint in between (a running sum carries the
rounding of every value ever added and removed, so the trainer replaying history from another
starting point would get other last digits).

Bounds: at most ``max_entities`` entities (the least recently updated is evicted), and per entity
only events newer than ``newest - (largest window + lateness)``, where ``newest`` is the latest
event time the entity has accepted.

Arrivals, for an event at time ``t`` of an entity whose newest accepted time is ``newest``:

- ``on_time``: ``t >= newest`` (or the entity is new). Appended.
- ``late``: ``newest - lateness <= t < newest``. Inserted in event-time order; its aggregates
  cover the window ending at ``t``. Events after it that were already served keep the values
  they were served with (they are not recomputed); events served from now on see it.
- ``too_late``: ``t < newest - lateness``. Served over what the state still holds (the window
  ending at ``t`` may have lost older events to the bound) plus itself, then not kept: later
  events never see it.
- ``duplicate``: an event id the entity holds at the same event time (a replay after a restart
  from a checkpoint). Served over the window ending at ``t`` as the state holds it now (which
  already includes the event) and not added again, so replays never double count.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from driftloop_features._checkpoint import CHECKPOINT_VERSION, CheckpointError, read_checkpoint
from driftloop_features._entity import Entity, Series, window_row
from driftloop_spec import AggregateFeature

__all__ = [
    "CHECKPOINT_VERSION",
    "Arrival",
    "CheckpointError",
    "EntityWindows",
    "WindowResult",
    "WindowStats",
]

Arrival = Literal["on_time", "late", "too_late", "duplicate"]
"""How an event arrived relative to its entity's newest accepted event (see the module doc)."""

_SECOND_US = 1_000_000


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What happened to the state while it served one batch.

    Attributes:
        late: Events inserted out of order, within the lateness.
        too_late: Events more than the lateness behind their entity's newest; served over what
            the state held, and not kept.
        duplicates: Events whose id the entity already held; served, not added again.
        evicted: Entities evicted to stay within ``max_entities``.
    """

    late: int = 0
    too_late: int = 0
    duplicates: int = 0
    evicted: int = 0


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The aggregate columns of one batch.

    Attributes:
        values: float64 array, one row per event, one column per aggregate, in the order given.
        arrivals: How each event arrived.
        stats: Counts for the batch.
    """

    values: npt.NDArray[np.float64]
    arrivals: tuple[Arrival, ...]
    stats: WindowStats


class EntityWindows:
    """The per-entity windows of one dataset (for one partition), bounded and checkpointable.

    Serve a batch with ``serve`` (``compute_features`` does). The same events in the same order
    give the same values and the same state, and ``from_checkpoint(to_checkpoint())`` continues
    exactly where the original would have.

    Attributes:
        evictions: Entities evicted since the state was created (kept across checkpoints).
        late: Events inserted out of order within the lateness, in total.
        too_late: Events served beyond the lateness and not kept, in total.
        duplicates: Replayed events recognised by id, in total.
    """

    def __init__(self, *, max_entities: int = 100_000, lateness: int = 300) -> None:
        """Create empty windows.

        Args:
            max_entities: Most entities held; past it the least recently updated is evicted.
            lateness: Seconds an event may lag its entity's newest event and still be inserted.

        Raises:
            ValueError: If ``max_entities`` < 1 or ``lateness`` < 0.
        """
        if max_entities < 1:
            raise ValueError(f"max_entities must be at least 1, got {max_entities}")
        self._max_entities = max_entities
        self._lateness = _checked_lateness(lateness)
        self._entities: OrderedDict[str, Entity] = OrderedDict()
        self._held = 0
        self.evictions = 0
        self.late = 0
        self.too_late = 0
        self.duplicates = 0

    @property
    def max_entities(self) -> int:
        """Most entities held at once."""
        return self._max_entities

    @property
    def lateness(self) -> int:
        """Seconds an event may lag its entity's newest event and still be inserted.

        Setting it (a new spec version may change a dataset's lateness) applies from the next
        event on, to placing and pruning alike. Nothing already held is redone: after a longer
        lateness, a late event older than the previous bound is served over what the state still
        holds, whose window may lack events the shorter bound had already pruned.

        Raises:
            ValueError: If set below 0.
        """
        return self._lateness

    @lateness.setter
    def lateness(self, seconds: int) -> None:
        self._lateness = _checked_lateness(seconds)

    @property
    def events_held(self) -> int:
        """Events held over all entities (the state's size, for a memory gauge)."""
        return self._held

    def __len__(self) -> int:
        """Number of entities held."""
        return len(self._entities)

    def __contains__(self, entity_id: object) -> bool:
        """Whether the entity is held."""
        return entity_id in self._entities

    def serve(
        self,
        aggregates: Sequence[AggregateFeature],
        entity_ids: Sequence[str],
        event_ids: Sequence[str],
        times_us: Sequence[int],
        values: Mapping[str, Sequence[float]],
    ) -> WindowResult:
        """Add a batch of events in arrival order and compute each one's aggregates.

        Args:
            aggregates: The aggregate features, in the order of the result's columns.
            entity_ids: Entity id of each event.
            event_ids: Event id of each event.
            times_us: Event time of each event, in microseconds since the Unix epoch.
            values: Per aggregated field, each event's value (``NaN`` when it lacks it).

        Returns:
            The aggregates, one row per event, with each event's arrival and the batch's counts.

        Raises:
            ValueError: If an aggregated field has no values, or the sequences differ in length.
        """
        _check_batch(aggregates, entity_ids, event_ids, times_us, values)
        horizon = (max((a.window for a in aggregates), default=0) + self._lateness) * _SECOND_US
        plan = [(a.fn, a.field, a.window * _SECOND_US) for a in aggregates]
        columns = [(name, values[name]) for name in sorted(values)]
        before = self._counters()
        rows: list[list[float]] = []
        arrivals: list[Arrival] = []
        for index, time in enumerate(times_us):
            # The fields the event carries (NaN, a missing value, is not equal to itself).
            present = [(name, col[index]) for name, col in columns if col[index] == col[index]]
            entity = self._touch(entity_ids[index])
            arrival = self._place(entity, event_ids[index], time, present, horizon)
            rows.append(window_row(entity, plan, time))
            if arrival == "too_late":
                entity.remove(time, present)
            arrivals.append(arrival)
        late, too_late, duplicates, evicted = (
            now - then for now, then in zip(self._counters(), before, strict=True)
        )
        return WindowResult(
            values=np.array(rows, dtype=np.float64).reshape(len(rows), len(plan)),
            arrivals=tuple(arrivals),
            stats=WindowStats(late=late, too_late=too_late, duplicates=duplicates, evicted=evicted),
        )

    def _counters(self) -> tuple[int, int, int, int]:
        return self.late, self.too_late, self.duplicates, self.evictions

    def _touch(self, entity_id: str) -> Entity:
        """The entity, made the most recently updated; created (evicting if full) when new."""
        entity = self._entities.get(entity_id)
        if entity is not None:
            self._entities.move_to_end(entity_id)
            return entity
        if len(self._entities) >= self._max_entities:
            _, evicted = self._entities.popitem(last=False)
            self._held -= len(evicted.times)
            self.evictions += 1
        entity = self._entities[entity_id] = Entity([], [], {})
        return entity

    def _place(
        self,
        entity: Entity,
        event_id: str,
        time: int,
        present: list[tuple[str, float]],
        horizon: int,
    ) -> Arrival:
        """Put the event into the entity's windows (or not) and say how it arrived."""
        times = entity.times
        if times and time <= times[-1] and entity.holds(event_id, time):
            self.duplicates += 1
            return "duplicate"
        entity.insert(event_id, time, present)
        self._held += 1
        newest = times[-1]
        if time == newest:
            self._held -= entity.prune(time - horizon)
            return "on_time"
        if time >= newest - self._lateness * _SECOND_US:
            self.late += 1
            return "late"
        self.too_late += 1
        self._held -= 1  # removed again once served
        return "too_late"

    def to_checkpoint(self) -> dict[str, Any]:
        """Return the state as a JSON-compatible document (see the README for its format).

        Entities are listed least recently updated first, so the order of eviction survives.
        """
        return {
            "version": CHECKPOINT_VERSION,
            "max_entities": self._max_entities,
            "lateness": self._lateness,
            "counters": {
                "evictions": self.evictions,
                "late": self.late,
                "too_late": self.too_late,
                "duplicates": self.duplicates,
            },
            "entities": [
                {
                    "entity_id": entity_id,
                    "times": list(entity.times),
                    "event_ids": list(entity.ids),
                    "series": [
                        {"field": name, "times": list(s.times), "values": list(s.values)}
                        for name, s in sorted(entity.series.items())
                        if s.times
                    ],
                }
                for entity_id, entity in self._entities.items()
            ],
        }

    @classmethod
    def from_checkpoint(cls, document: Mapping[str, Any]) -> EntityWindows:
        """Rebuild the state ``to_checkpoint`` wrote (also after a JSON or BSON round trip).

        Args:
            document: A checkpoint document.

        Returns:
            Windows that serve the next events exactly as the checkpointed ones would have.

        Raises:
            CheckpointError: If the document is not a valid checkpoint of this version.
        """
        checkpoint = read_checkpoint(document)
        windows = cls(max_entities=checkpoint.max_entities, lateness=checkpoint.lateness)
        for entity_id, times, ids, series in checkpoint.entities:
            named = {name: Series(ts, vs) for name, ts, vs in series}
            windows._entities[entity_id] = Entity(times, ids, named)
            windows._held += len(times)
        windows.evictions, windows.late, windows.too_late, windows.duplicates = checkpoint.counters
        return windows


def _checked_lateness(seconds: int) -> int:
    if seconds < 0:
        raise ValueError(f"lateness must be at least 0 seconds, got {seconds}")
    return seconds


def _check_batch(
    aggregates: Sequence[AggregateFeature],
    entity_ids: Sequence[str],
    event_ids: Sequence[str],
    times_us: Sequence[int],
    values: Mapping[str, Sequence[float]],
) -> None:
    lacking = sorted({a.field for a in aggregates if a.field is not None} - set(values))
    if lacking:
        raise ValueError(f"no values given for aggregated fields {lacking}")
    sizes = {len(entity_ids), len(event_ids), len(times_us), *map(len, values.values())}
    if len(sizes) > 1:
        raise ValueError(
            f"entity ids, event ids, times and values differ in length: {sorted(sizes)}"
        )
