"""Evaluation metrics agree with scikit-learn's own functions, per task."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from driftloop_modeling.evaluation import (
    classification_metrics,
    recall_at_fpr,
    regression_metrics,
)
from driftloop_spec import metrics_for

pytestmark = pytest.mark.unit


def binary_case(rows: int = 400, seed: int = 1) -> tuple[list[bool], np.ndarray]:
    """Labels and [P(False), P(True)] scores of a model that is right more often than not."""
    rng = np.random.default_rng(seed)
    truth = rng.random(rows) < 0.3
    p_true = np.clip(0.35 * truth + rng.random(rows) * 0.65, 0, 1)
    return truth.tolist(), np.column_stack([1 - p_true, p_true])


def test_binary_metrics_match_scikit_learn() -> None:
    truth, scores = binary_case()
    got = classification_metrics(truth, scores, [False, True], positive=True, max_fpr=0.1)
    picked = scores[:, 1] > scores[:, 0]
    assert got == pytest.approx(
        {
            "accuracy": accuracy_score(truth, picked),
            "precision": precision_score(truth, picked),
            "recall": recall_score(truth, picked),
            "f1": f1_score(truth, picked),
            "roc_auc": roc_auc_score(truth, scores[:, 1]),
            "average_precision": average_precision_score(truth, scores[:, 1]),
            "log_loss": log_loss(truth, scores),
            "recall_at_fpr": recall_at_fpr(truth, scores[:, 1], 0.1),
        }
    )
    assert set(got) == set(metrics_for("binary")) | {"precision", "recall"}


def test_the_positive_class_need_not_be_the_second_column() -> None:
    truth, scores = binary_case()
    flipped = classification_metrics(
        ["yes" if t else "no" for t in truth], scores[:, ::-1], ["yes", "no"], positive="yes"
    )
    plain = classification_metrics(truth, scores, [False, True], positive=True)
    assert flipped == pytest.approx(plain)


def test_recall_at_fpr_reads_the_roc_curve() -> None:
    truth = [False, False, False, False, True, True, True, True]
    score = [0.1, 0.2, 0.3, 0.9, 0.4, 0.8, 0.85, 0.95]
    # Only 0.95 scores above the highest negative (0.9): one positive of four, no false one.
    assert recall_at_fpr(truth, score, 0.2) == 0.25
    assert recall_at_fpr(truth, score, 0.25) == 1.0  # one negative (0.9) of four allowed
    assert math.isnan(recall_at_fpr([True, True], [0.1, 0.2], 0.1))


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 300)
    raw = rng.random((300, 3)) + np.eye(3)[truth] * 0.8
    scores = raw / raw.sum(axis=1, keepdims=True)
    labels = ["low", "mid", "high"]
    got = classification_metrics([labels[t] for t in truth], scores, labels)
    picked = scores.argmax(axis=1)
    assert got == pytest.approx(
        {
            "accuracy": accuracy_score(truth, picked),
            "precision": precision_score(truth, picked, average="macro"),
            "recall": recall_score(truth, picked, average="macro"),
            "f1": f1_score(truth, picked, average="macro"),
            "roc_auc": roc_auc_score(truth, scores, multi_class="ovr"),
            "log_loss": log_loss(truth, scores),
        }
    )


def test_undefined_metrics_are_left_out_not_nan() -> None:
    one_class = classification_metrics(
        [True] * 5, np.tile([0.2, 0.8], (5, 1)), [False, True], positive=True, max_fpr=0.1
    )
    assert one_class.keys() == {"accuracy", "precision", "recall", "f1", "log_loss"}
    assert classification_metrics([], np.zeros((0, 2)), [False, True], positive=True) == {}
    assert regression_metrics([3.0, 3.0], [2.0, 4.0]) == {"mae": 1.0, "rmse": 1.0}


def test_bool_labels_are_not_the_integer_classes() -> None:
    with pytest.raises(ValueError, match="label True is not one of the classes"):
        classification_metrics([True], [[0.5, 0.5]], [0, 1], positive=1)
    with pytest.raises(ValueError, match=r"scores must have shape \(1, 2\)"):
        classification_metrics([1], [[1.0]], [0, 1], positive=1)


def test_numpy_labels_are_read_as_their_python_values() -> None:
    got = classification_metrics(np.array([0, 1]), [[0.9, 0.1], [0.2, 0.8]], [0, 1], positive=1)
    assert got["accuracy"] == 1.0


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(10, 3, 200)
    guess = truth + rng.normal(0, 1, 200)
    assert regression_metrics(truth, guess) == pytest.approx(
        {
            "mae": mean_absolute_error(truth, guess),
            "rmse": math.sqrt(mean_squared_error(truth, guess)),
            "r2": r2_score(truth, guess),
        }
    )
    with pytest.raises(ValueError, match="2 labels but 1 estimates"):
        regression_metrics([1.0, 2.0], [1.0])
