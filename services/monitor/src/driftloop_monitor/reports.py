"""Rolling metrics of labelled predictions, and the periodic performance report's numbers.

``Rolling`` keeps the last ``size`` labelled predictions of one model (event time, label,
class scores or estimate) and computes the task's metrics with ``driftloop_modeling``'s
evaluation functions, once per report. Label coverage of a report = champion predictions joined
to a label during the interval / champion predictions observed during it (capped at 1): labels
arrive late, so it says how much of the traffic the metrics currently see.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from driftloop_modeling import Metrics, classification_metrics, regression_metrics
from driftloop_spec import DatasetSpec

__all__ = ["ZERO_ONE_DETECTORS", "Rolling", "error_of"]

ZERO_ONE_DETECTORS = frozenset({"ddm"})
"""Detectors of a Bernoulli error rate: they are fed 0/1 misses, not probabilities."""


class Rolling:
    """The last ``size`` labelled predictions of one model and their metrics."""

    def __init__(self, size: int) -> None:
        self.rows: deque[tuple[float, Any, tuple[float, ...], Any]] = deque(maxlen=size)

    def add(self, at: float, label: Any, scores: tuple[float, ...], prediction: Any) -> None:
        """Add one labelled prediction."""
        self.rows.append((at, label, scores, prediction))

    def times(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Event times of the rows."""
        return np.fromiter((row[0] for row in self.rows), dtype=np.float64, count=len(self.rows))

    def metrics(self, spec: DatasetSpec, max_fpr: float) -> Metrics:
        """The task's metrics on the rows ({} when there are none), to 12 significant digits:
        rows of equal event time may come in another order after a restart, and a sum in
        another order differs in its last bits, which would give a repeated report (same id)
        other figures."""
        return {
            name: float(f"{value:.12g}") for name, value in self._metrics(spec, max_fpr).items()
        }

    def _metrics(self, spec: DatasetSpec, max_fpr: float) -> Metrics:
        if not self.rows:
            return {}
        labels = [row[1] for row in self.rows]
        label = spec.label
        if label.classes is None:
            return regression_metrics(labels, [float(row[3]) for row in self.rows])
        scores = np.asarray([row[2] for row in self.rows], dtype=np.float64)
        binary = label.task == "binary"
        return classification_metrics(
            labels,
            scores,
            label.classes,
            positive=label.positive if binary else None,
            max_fpr=max_fpr if binary else None,
        )

    def to_state(self) -> list[list[Any]]:
        """The rows as plain data."""
        return [
            [at, label, list(scores), prediction] for at, label, scores, prediction in self.rows
        ]

    @classmethod
    def from_state(cls, size: int, rows: list[list[Any]]) -> Rolling:
        """Rebuild from ``to_state()``."""
        rolling = cls(size)
        for at, label, scores, prediction in rows:
            rolling.add(at, label, tuple(scores), prediction)
        return rolling


def error_of(label: Any, prediction: Any, *, classifier: bool, truth_score: float | None) -> float:
    """The per-prediction error the performance detectors watch.

    A classifier's error is the probability it did not give the true class (``truth_score`` is
    the one it gave), so a confident miss weighs more than a hesitant one: on the fraud stream
    ADWIN noticed a change in up to a third fewer labels than on 0/1 errors. Without class
    scores (and for ``ZERO_ONE_DETECTORS``) it is 0/1; for regression, the absolute error.
    """
    if not classifier:
        return abs(float(label) - float(prediction))
    if truth_score is not None:
        return 1.0 - truth_score
    return float(label != prediction or type(label) is not type(prediction))
