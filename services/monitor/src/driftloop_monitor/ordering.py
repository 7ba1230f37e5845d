"""Joined labels released in event-time order, whatever order the topics were read in.

The monitor reads three topics of several partitions each; how their records interleave in a
fetch differs from run to run (and between a run and its restart). The performance detectors,
the rolling metrics and the reports must not depend on it, so a joined label is not fed at once:
it waits in a ``JoinQueue`` until the ``Horizon`` passes its join time (the later of its
prediction's and its label's event times), and leaves in (join time, prediction time, partition,
offset) order. The horizon is the oldest of the newest event times of the prediction and
outcome partitions: with each partition in event-time order, every join still to come has a
later join time. The three topics are keyed alike (by entity), so a partition seen on one of
them is waited for on the others too, as if it stood at the oldest event time seen on it (labels
and predictions come after their data). Two bounds keep it moving: a partition more than
``reorder_s`` behind the newest of its topic no longer holds it back (an idle partition), and it
is never more than the join's ttl behind the newest event time (what is older has expired
anyway). What arrives behind the horizon (an out-of-order partition) leaves at once.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from driftloop_monitor.join import Joined, Pending

__all__ = ["Horizon", "JoinQueue"]

INPUTS = ("predictions", "outcomes")


class Horizon:
    """The event time up to which every prediction and label has been read."""

    def __init__(self, reorder_s: float, ttl: float) -> None:
        self._reorder = reorder_s
        self._ttl = ttl
        self._newest: dict[tuple[str, int], float] = {}
        self._oldest: dict[int, float] = {}  # per partition, on any input
        self.at = float("-inf")

    def saw(self, source: str, partition: int, at: float) -> None:
        """Record an event of ``source`` (``vectors``, ``predictions`` or ``outcomes``) read on
        ``partition``."""
        if at < self._oldest.get(partition, float("inf")):
            self._oldest[partition] = at
        key = (source, partition)
        if at > self._newest.get(key, float("-inf")):
            self._newest[key] = at

    def advance(self, watermark: float) -> float:
        """Move the horizon as far as what was read allows (never back); return it."""
        lows = []
        for source in INPUTS:
            times = [
                self._newest.get((source, p), float(np.nextafter(oldest, -np.inf)))
                for p, oldest in self._oldest.items()
            ]
            if not times:
                lows.append(float("-inf"))
                continue
            newest = max(times)
            lows.append(min(t for t in times if t >= newest - self._reorder))
        self.at = max(self.at, min(lows), watermark - self._ttl)
        return self.at

    def to_state(self) -> dict[str, Any]:
        """Return the horizon as plain data."""
        at = self.at if self.at != float("-inf") else None
        return {
            "newest": [[s, p, t] for (s, p), t in self._newest.items()],
            "oldest": [[p, t] for p, t in self._oldest.items()],
            "at": at,
        }

    @classmethod
    def from_state(cls, reorder_s: float, ttl: float, state: dict[str, Any]) -> Horizon:
        """Rebuild from ``to_state()``."""
        horizon = cls(reorder_s, ttl)
        horizon._newest = {(s, int(p)): float(t) for s, p, t in state["newest"]}
        horizon._oldest = {int(p): float(t) for p, t in state["oldest"]}
        horizon.at = float("-inf") if state["at"] is None else float(state["at"])
        return horizon


_Item = tuple[float, float, int, int, int, int, Joined]


class JoinQueue:
    """Joined labels waiting for the horizon, at most ``bound`` (the oldest leave early)."""

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._heap: list[_Item] = []
        self._sequence = 0
        self.early = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, joined: Joined) -> None:
        """Queue a join; its key is the later of its label's and its first prediction's time."""
        first = joined.predictions[0]
        key = max(joined.label_at, first.at)
        self._sequence += 1
        item = (key, first.at, first.partition, first.offset, first.version, self._sequence)
        heapq.heappush(self._heap, (*item, joined))

    def pop_before(self, horizon: float) -> tuple[float, Joined] | None:
        """The next join (with its key) whose key is before ``horizon``, or one over the bound."""
        if not self._heap:
            return None
        if self._heap[0][0] >= horizon and len(self._heap) <= self._bound:
            return None
        if self._heap[0][0] >= horizon:
            self.early += 1
        item = heapq.heappop(self._heap)
        return item[0], item[-1]

    def keep(self, versions: set[int]) -> None:
        """Forget the joins of other versions (a new champion or shadow)."""
        kept = []
        for item in self._heap:
            predictions = tuple(p for p in item[-1].predictions if p.version in versions)
            if predictions:
                kept.append((*item[:-1], Joined(item[-1].label, predictions, item[-1].label_at)))
        self._heap = kept
        heapq.heapify(self._heap)

    def to_state(self) -> list[list[Any]]:
        """Return the queue as plain data."""
        return [
            [item[0], item[-1].label, [_pending(p) for p in item[-1].predictions]]
            for item in sorted(self._heap)
        ]

    @classmethod
    def from_state(cls, bound: int, state: list[list[Any]]) -> JoinQueue:
        """Rebuild from ``to_state()``."""
        queue = cls(bound)
        for key, label, rows in state:
            pending = tuple(
                Pending(at, version, prediction, tuple(scores), partition, offset)
                for at, version, prediction, scores, partition, offset in rows
            )
            queue.push(Joined(label, pending, key))
        return queue


def _pending(p: Pending) -> list[Any]:
    return [p.at, p.version, p.prediction, list(p.scores), p.partition, p.offset]
