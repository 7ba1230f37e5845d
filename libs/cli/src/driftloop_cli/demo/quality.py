"""Quality of scores against the simulator's truth: ROC AUC, recall at a fixed false-positive
rate, and both rolling over the stream. Pure functions over plain sequences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from driftloop_cli.demo.model import SeenPrediction, StreamEvent

__all__ = ["RollingPoint", "last_window", "recall_at_fpr", "roc_auc", "rolling_quality"]

FPR = 0.01


@dataclass(frozen=True, slots=True)
class RollingPoint:
    """Quality of the ``window`` champion predictions up to stream ``position`` (inclusive)."""

    position: int
    roc_auc: float | None
    recall: float | None
    """Recall at 1% false-positive rate."""
    version: int
    """Version that scored the event at ``position``."""


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float | None:
    """Area under the ROC curve (ties count half); ``None`` when one class is missing."""
    truth, values = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return None
    # Mann-Whitney U from average ranks: the AUC without sorting pairs.
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    ranks = _average_ties(values, ranks)
    u = ranks[truth].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def _average_ties(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if counts.max(initial=1) == 1:
        return ranks
    sums = np.bincount(inverse, weights=ranks)
    averaged: np.ndarray = (sums / counts)[inverse]
    return averaged


def recall_at_fpr(labels: ArrayLike, scores: ArrayLike, fpr: float = FPR) -> float | None:
    """Share of positives caught at the threshold that flags ``fpr`` of the negatives."""
    truth, values = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    if truth.all() or not truth.any():
        return None
    threshold = np.quantile(values[~truth], 1 - fpr)
    return float((values[truth] > threshold).mean())


def last_window(
    stream: Sequence[StreamEvent], predictions: Mapping[str, SeenPrediction], window: int
) -> tuple[list[bool], list[float]]:
    """Truth and scores of the last ``window`` predicted events of ``stream``, in stream order."""
    labels: list[bool] = []
    scores: list[float] = []
    for event in reversed(stream):
        if (seen := predictions.get(event.event_id)) is not None:
            labels.append(event.is_fraud)
            scores.append(seen.score)
            if len(labels) == window:
                break
    return labels[::-1], scores[::-1]


def rolling_quality(
    stream: Sequence[StreamEvent],
    predictions: Mapping[str, SeenPrediction],
    window: int,
    step: int = 50,
) -> list[RollingPoint]:
    """The rolling metrics every ``step`` predicted events, once ``window`` are there."""
    scored = [(e, p) for e in stream if (p := predictions.get(e.event_id)) is not None]
    labels = [e.is_fraud for e, _ in scored]
    scores = [p.score for _, p in scored]
    points = []
    for end in range(window, len(scored) + 1, step):
        part_labels, part_scores = labels[end - window : end], scores[end - window : end]
        event, seen = scored[end - 1]
        points.append(
            RollingPoint(
                event.position,
                roc_auc(part_labels, part_scores),
                recall_at_fpr(part_labels, part_scores),
                seen.version,
            )
        )
    return points
