"""The pure figures of ``bench.drift_recovery``: prequential metrics of a score stream, the
rolling metric over a window of predictions, the point where it recovers after a change, the
detection delay, and the drift-to-redeploy latency split.

A score stream is what a model said of each event before that event's label was known, in
stream order: ``positions`` (each scored event's index in the stream), ``truth`` (the
simulator's ``is_fraud``) and ``scores`` (the positive class's probability). Scoring every event
before learning from it is what makes the metric prequential; the label delay only matters to a
model that learns from the labels (``bench.online``), never to the metric itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score

from driftloop_cli.demo.quality import roc_auc
from driftloop_modeling.evaluation import recall_at_fpr

__all__ = [
    "MAX_FPR",
    "TOLERANCE",
    "WINDOW",
    "Detection",
    "LoopTimes",
    "Recovery",
    "Rolling",
    "ScoreStream",
    "detection",
    "latency_split",
    "prequential_metrics",
    "recovery",
    "rolling_auc",
]

WINDOW = 1_000  # predictions in the rolling metric's window
TOLERANCE = 0.02  # "within 2 points" of the pre-change level, in ROC AUC
MAX_FPR = 0.01  # recall is read at a 1% false-positive rate


@dataclass(frozen=True)
class ScoreStream:
    """Scores of events in stream order, with the truth about each."""

    positions: NDArray[np.int64]
    truth: NDArray[np.bool_]
    scores: NDArray[np.float64]

    @classmethod
    def of(cls, positions: ArrayLike, truth: ArrayLike, scores: ArrayLike) -> ScoreStream:
        """Arrays of equal length, ordered by position."""
        stream = cls(
            np.asarray(positions, dtype=np.int64),
            np.asarray(truth, dtype=np.bool_),
            np.asarray(scores, dtype=np.float64),
        )
        if not len(stream.positions) == len(stream.truth) == len(stream.scores):
            raise ValueError("positions, truth and scores differ in length")
        if np.any(np.diff(stream.positions) <= 0):
            raise ValueError("positions must increase")
        return stream

    def only(self, positions: ArrayLike) -> ScoreStream:
        """The scores of the events at ``positions`` (those this stream has)."""
        kept = np.isin(self.positions, np.asarray(positions, dtype=np.int64))
        return ScoreStream(self.positions[kept], self.truth[kept], self.scores[kept])


def prequential_metrics(stream: ScoreStream, max_fpr: float = MAX_FPR) -> dict[str, float | None]:
    """ROC AUC and recall at ``max_fpr`` of every score of the stream (``None``: one class)."""
    if stream.truth.all() or not stream.truth.any():
        return {"roc_auc": None, "recall_at_1pct_fpr": None, "events": len(stream.truth)}
    return {
        "roc_auc": round(float(roc_auc_score(stream.truth, stream.scores)), 4),
        "recall_at_1pct_fpr": round(recall_at_fpr(stream.truth, stream.scores, max_fpr), 4),
        "events": len(stream.truth),
    }


@dataclass(frozen=True)
class Rolling:
    """The rolling metric: at each ``positions[i]`` (the last event of a window), ``values[i]``
    (NaN where the window holds one class only)."""

    positions: NDArray[np.int64]
    values: NDArray[np.float64]

    def level_before(self, change_at: int) -> float:
        """The pre-change level: the mean over the windows that end before ``change_at``."""
        before = self.values[(self.positions < change_at) & ~np.isnan(self.values)]
        return float(before.mean()) if len(before) else math.nan


def rolling_auc(stream: ScoreStream, window: int = WINDOW, step: int = 100) -> Rolling:
    """ROC AUC over each ``window`` consecutive scores, every ``step`` scores (the demo's
    rolling metric, ``driftloop_cli.demo.quality.roc_auc``; NaN for a one-class window)."""
    ends = np.arange(window, len(stream.truth) + 1, step)
    values = [
        roc_auc(stream.truth[end - window : end], stream.scores[end - window : end]) for end in ends
    ]
    return Rolling(
        stream.positions[ends - 1],
        np.array([math.nan if v is None else v for v in values], dtype=np.float64),
    )


@dataclass(frozen=True)
class Recovery:
    """How the rolling metric went after the change.

    ``dropped``: it fell more than the tolerance below the pre-change level; ``events``: events
    after the change until it was back within the tolerance and stayed there for ``hold``
    events (0 if it never dropped; ``None`` if it did not recover within the stream)."""

    level: float | None
    dropped: bool
    lowest: float | None
    events: int | None


def recovery(
    rolling: Rolling, change_at: int, tolerance: float = TOLERANCE, hold: int = WINDOW
) -> Recovery:
    """Where the rolling metric is back within ``tolerance`` of its pre-change level after
    ``change_at``, and stays there for ``hold`` events: one window with ~30 frauds swings by a
    few points, so a single value back at the level is not yet a recovery."""
    level = rolling.level_before(change_at)
    after = rolling.positions >= change_at
    positions, values = rolling.positions[after], rolling.values[after]
    known = ~np.isnan(values)
    lowest = float(values[known].min()) if known.any() else None
    good = ~known | (values >= level - tolerance)  # a one-class window says nothing either way
    if good.all():
        return Recovery(_round(level), False, _round(lowest), 0)
    first_bad = int(np.argmin(good))
    for i in range(first_bad, len(positions)):
        stays = good[i:][positions[i:] <= positions[i] + hold]
        if good[i] and stays.all() and positions[-1] >= positions[i] + hold:
            return Recovery(_round(level), True, _round(lowest), int(positions[i] - change_at))
    return Recovery(_round(level), True, _round(lowest), None)


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


@dataclass(frozen=True)
class Detection:
    """When the first alarm after the change came: events after the change, and how many of
    those had their label by then (labels arrive ``label_delay`` events late)."""

    events: int
    labelled_events: int


def detection(change_at: int, alarm_at: int, label_delay: int) -> Detection:
    """The detection delay of an alarm seen at stream position ``alarm_at``."""
    events = alarm_at - change_at
    return Detection(events, max(0, events - label_delay))


@dataclass(frozen=True)
class LoopTimes:
    """Wall-clock times (Kafka record timestamps, seconds) of one turn of the loop; ``None``: it
    did not happen."""

    drift: float
    trained: float | None
    registered: float | None
    promoted: float | None
    served: float | None  # the first prediction by the promoted version


def latency_split(times: LoopTimes) -> dict[str, float | None]:
    """Seconds of each step, drift → training completed → registered → promoted → first
    prediction by the new champion, and the total (``None`` where a step is missing)."""
    steps = [times.drift, times.trained, times.registered, times.promoted, times.served]
    names = ("detect_to_train", "train_to_register", "register_to_promote", "promote_to_swap")
    split = {name: _seconds(a, b) for name, a, b in zip(names, steps, steps[1:], strict=False)}
    split["total"] = _seconds(times.drift, times.served)
    return split


def _seconds(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)
