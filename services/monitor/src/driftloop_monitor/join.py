"""The label join: predictions wait for their outcome, early outcomes for their predictions.

Keyed by the data event's id (``subject_event_id``): the champion's and the shadow's predictions
of one subject join the same label. Time is event time (seconds since the epoch): a prediction
waits at most ``ttl`` behind the watermark (then it is an unlabelled prediction), an early
label the same (then an orphan label). A bounded memory of finished subjects tells a label
whose prediction expired (a late label) and redelivered duplicates apart. Everything held is
bounded by ``max_pending``, oldest evicted first (counted).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

__all__ = ["COUNTS", "Joined", "LabelJoin", "Pending"]

COUNTS = (
    "joined",
    "late_labels",
    "orphan_labels",
    "unlabelled_predictions",
    "duplicate_predictions",
    "duplicate_labels",
    "evicted",
)
"""What the join counts (each reported from 0)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A prediction waiting for its label: what the monitor needs of it, and where it was read."""

    at: float
    version: int
    prediction: Any
    scores: tuple[float, ...]
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Joined:
    """A label and the predictions it joined."""

    label: Any
    predictions: tuple[Pending, ...]
    label_at: float = float("-inf")
    """The label's event time (unknown, ``-inf``, for a prediction joined after its label)."""


class LabelJoin:
    """The bounded, time-limited join of labels to predictions."""

    def __init__(self, ttl: float, max_pending: int) -> None:
        self._ttl = ttl
        self._max = max_pending
        self._predictions: OrderedDict[str, list[Pending]] = OrderedDict()
        self._labels: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        # subject -> its label once joined (None: its predictions expired unlabelled).
        self._done: OrderedDict[str, tuple[Any, list[int]] | None] = OrderedDict()
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))

    def add_prediction(self, subject: str, pending: Pending) -> Joined | None:
        """Hold a prediction for its label; return the join when the label is already here."""
        if subject in self._done:
            return self._after_done(subject, pending)
        waiting = self._predictions.setdefault(subject, [])
        if any(p.version == pending.version for p in waiting):
            self.counts["duplicate_predictions"] += 1
            return None
        waiting.append(pending)
        if subject in self._labels:
            label_at, label = self._labels.pop(subject)
            return self._join(subject, label, label_at)
        self._bound()
        return None

    def add_label(self, subject: str, at: float, label: Any) -> Joined | None:
        """Join a label to its predictions, or hold it until they come."""
        if subject in self._done:
            self.counts["late_labels" if self._done[subject] is None else "duplicate_labels"] += 1
            return None
        if subject in self._predictions:
            return self._join(subject, label, at)
        if subject in self._labels:
            self.counts["duplicate_labels"] += 1
            return None
        self._labels[subject] = (at, label)
        self._bound()
        return None

    def expire(self, watermark: float) -> None:
        """Give up on what waited more than the ttl behind ``watermark``."""
        cutoff = watermark - self._ttl
        while self._predictions:
            subject, waiting = next(iter(self._predictions.items()))
            if waiting[0].at >= cutoff:
                break
            self._predictions.popitem(last=False)
            self.counts["unlabelled_predictions"] += len(waiting)
            self._remember(subject, None)
        while self._labels and next(iter(self._labels.values()))[0] < cutoff:
            self._labels.popitem(last=False)
            self.counts["orphan_labels"] += 1

    def sizes(self) -> dict[str, int]:
        """How many predictions and labels wait."""
        return {"pending_predictions": len(self._predictions), "pending_labels": len(self._labels)}

    def to_state(self) -> dict[str, Any]:
        """Return the join's state as plain data."""
        return {
            "predictions": [
                [
                    s,
                    [
                        [p.at, p.version, p.prediction, list(p.scores), p.partition, p.offset]
                        for p in w
                    ],
                ]
                for s, w in self._predictions.items()
            ],
            "labels": [[s, at, label] for s, (at, label) in self._labels.items()],
            "done": [[s, None if d is None else [d[0], list(d[1])]] for s, d in self._done.items()],
            "counts": dict(self.counts),
        }

    @classmethod
    def from_state(cls, ttl: float, max_pending: int, state: dict[str, Any]) -> LabelJoin:
        """Rebuild a join from ``to_state()``."""
        join = cls(ttl, max_pending)
        for subject, waiting in state["predictions"]:
            join._predictions[subject] = [
                Pending(at, version, prediction, tuple(scores), partition, offset)
                for at, version, prediction, scores, partition, offset in waiting
            ]
        for subject, at, label in state["labels"]:
            join._labels[subject] = (at, label)
        for subject, done in state["done"]:
            join._done[subject] = None if done is None else (done[0], list(done[1]))
        join.counts.update(state["counts"])
        return join

    def _after_done(self, subject: str, pending: Pending) -> Joined | None:
        done = self._done[subject]
        if done is None or pending.version in done[1]:
            self.counts["duplicate_predictions"] += 1
            return None
        done[1].append(pending.version)  # a prediction after its label: the shadow, late
        self.counts["joined"] += 1
        return Joined(done[0], (pending,))

    def _join(self, subject: str, label: Any, at: float) -> Joined:
        waiting = self._predictions.pop(subject)
        self._remember(subject, (label, [p.version for p in waiting]))
        self.counts["joined"] += len(waiting)
        return Joined(label, tuple(waiting), at)

    def _remember(self, subject: str, done: tuple[Any, list[int]] | None) -> None:
        self._done[subject] = done
        while len(self._done) > self._max:
            self._done.popitem(last=False)

    def _bound(self) -> None:
        while len(self._predictions) + len(self._labels) > self._max:
            oldest = self._labels if self._oldest_is_label() else self._predictions
            oldest.popitem(last=False)
            self.counts["evicted"] += 1

    def _oldest_is_label(self) -> bool:
        if not self._labels or not self._predictions:
            return bool(self._labels)
        label_at = next(iter(self._labels.values()))[0]
        return label_at < next(iter(self._predictions.values()))[0].at
