"""The online baseline scores each row before learning it, and learns labels only once they
have arrived."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bench.online import arf_scores

pytestmark = pytest.mark.unit

NAMES = ["a", "b"]


class Recorder:
    """A stand-in learner that records the order of its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def learn_one(self, x: dict[str, float], y: bool) -> None:
        self.calls.append(("learn", x["a"]))

    def predict_proba_one(self, x: dict[str, float]) -> dict[bool, float]:
        self.calls.append(("predict", x["a"]))
        return {True: 0.25, False: 0.75}


def rows(values: list[float]) -> tuple[Any, Any]:
    matrix = np.array([[v, 0.0] for v in values])
    return matrix, np.zeros(len(values), dtype=np.bool_)


def test_history_is_learnt_first_and_each_label_after_the_delay() -> None:
    learner = Recorder()
    scores = arf_scores(NAMES, rows([-1.0]), rows([0.0, 1.0, 2.0, 3.0]), 2, learner)
    assert learner.calls == [
        ("learn", -1.0),
        ("predict", 0.0),
        ("predict", 1.0),
        ("predict", 2.0),
        ("learn", 0.0),  # row 0's label arrives after row 2 was scored
        ("predict", 3.0),
    ]
    assert scores.tolist() == [0.25] * 4


def test_with_no_delay_it_is_test_then_train() -> None:
    learner = Recorder()
    arf_scores(NAMES, rows([]), rows([0.0, 1.0]), 0, learner)
    assert learner.calls == [("predict", 0.0), ("learn", 0.0), ("predict", 1.0)]


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        arf_scores(NAMES, rows([]), rows([0.0]), -1)


def test_the_forest_learns_a_concept_from_delayed_labels() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.random((1_500, 2))
    labels = matrix[:, 0] > 0.8
    scores = arf_scores(NAMES, (matrix[:300], labels[:300]), (matrix[300:], labels[300:]), 50)
    assert roc_auc_score(labels[300:], scores) > 0.95
