"""The online baseline of ``bench.drift_recovery``: river's ``ARFClassifier`` learning as the
labels arrive.

Each event of the stream is scored (``predict_proba_one``) before anything is learnt from it;
its label is learnt (``learn_one``) ``label_delay`` events later, the delay the system's labels
have. The model starts from the labelled history the system had when the stream began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray
from river import forest

__all__ = ["OnlineClassifier", "arf_scores", "new_arf"]


class OnlineClassifier(Protocol):
    """What the baseline needs of a river classifier."""

    def learn_one(self, x: dict[str, float], y: bool) -> None: ...

    def predict_proba_one(self, x: dict[str, float]) -> dict[bool, float]: ...


def new_arf(seed: int = 7) -> forest.ARFClassifier:
    """river's adaptive random forest with its defaults (10 trees, ADWIN drift and warning
    detectors per tree), seeded."""
    return forest.ARFClassifier(seed=seed)


def arf_scores(
    names: Sequence[str],
    history: tuple[NDArray[np.float64], NDArray[np.bool_]],
    stream: tuple[NDArray[np.float64], NDArray[np.bool_]],
    label_delay: int,
    model: OnlineClassifier | None = None,
) -> NDArray[np.float64]:
    """The fraud score of each stream row, predicted before learning from it.

    Args:
        names: The feature names, the columns of both matrices.
        history: Labelled rows learnt before the stream starts.
        stream: Rows in stream order and their labels.
        label_delay: Events between a row and its label; the label of row ``i`` is learnt
            right after row ``i + label_delay`` is scored (0: test, then train, row by row).
        model: The learner (a new seeded ARF by default).
    """
    if label_delay < 0:
        raise ValueError(f"label_delay must not be negative, not {label_delay}")
    learner = model if model is not None else cast(OnlineClassifier, new_arf())
    for row, label in zip(*history, strict=True):
        learner.learn_one(_dict(names, row), bool(label))
    matrix, labels = stream
    waiting: deque[tuple[dict[str, float], bool]] = deque()
    scores = np.empty(len(matrix), dtype=np.float64)
    for i, row in enumerate(matrix):
        while len(waiting) > label_delay:
            learner.learn_one(*waiting.popleft())
        x = _dict(names, row)
        # an untrained forest answers {}: no evidence of fraud yet
        scores[i] = learner.predict_proba_one(x).get(True, 0.0)
        waiting.append((x, bool(labels[i])))
    return scores


def _dict(names: Sequence[str], row: NDArray[np.float64]) -> dict[str, float]:
    return dict(zip(names, row.tolist(), strict=True))
