"""Evaluation metrics per task, from the true labels and a model's predicted scores.

The names are those of ``driftloop_spec.metrics`` (``roc_auc``, ``log_loss``, ``mae``, ...) plus
``precision`` and ``recall``. A metric that is undefined on the data given (ROC AUC on a holdout
of one class, R² of a constant target) is left out rather than reported as NaN: metrics travel
in contracts that accept finite numbers only, and a promotion policy must not compare a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

__all__ = [
    "Metrics",
    "classification_metrics",
    "recall_at_fpr",
    "regression_metrics",
]

Metrics = dict[str, float]
"""Metric values by name."""

_EPS = float(np.finfo(np.float64).eps)


def classification_metrics(
    y_true: Iterable[Any],
    scores: ArrayLike,
    classes: Sequence[Any],
    *,
    positive: Any = None,
    max_fpr: float | None = None,
) -> Metrics:
    """Return a classifier's metrics on labelled rows.

    With ``positive`` (a binary task): accuracy, precision, recall and F1 of the positive
    class, ROC AUC and average precision of its score, log loss, and ``recall_at_fpr`` when
    ``max_fpr`` is given. Without it (multiclass): accuracy, macro precision, recall and F1,
    one-vs-rest macro ROC AUC and log loss. The predicted class of a row is its highest score.

    Args:
        y_true: The true class of each row, one of ``classes``.
        scores: Probability per row and class, shape ``(rows, len(classes))``.
        classes: The classes, in the order of the columns of ``scores``.
        positive: The positive class of a binary task; ``None`` for multiclass.
        max_fpr: The false-positive rate ``recall_at_fpr`` is read at (binary only).

    Returns:
        The metrics that are defined on these rows (an empty dict for no rows).

    Raises:
        ValueError: A label is not one of ``classes``, or ``scores`` has the wrong shape.
    """
    truth = _class_indices(y_true, classes)
    proba = _probabilities(scores, len(truth), len(classes))
    if not len(truth):
        return {}
    picked = np.argmax(proba, axis=1)
    metrics = {
        "accuracy": float(accuracy_score(truth, picked)),
        "log_loss": _log_loss(truth, proba),
    }
    if positive is None:
        metrics |= _multiclass(truth, picked, proba)
    else:
        index = _class_indices([positive], classes)[0]
        metrics |= _binary(truth == index, picked == index, proba[:, index], max_fpr)
    return _finite(metrics)


def regression_metrics(y_true: ArrayLike, estimates: ArrayLike) -> Metrics:
    """Return a regressor's MAE, RMSE and R² on labelled rows (R² only when the target varies).

    Args:
        y_true: The true value of each row.
        estimates: The model's estimate of each row, in the same order.

    Raises:
        ValueError: The two have different lengths.
    """
    truth = np.asarray(y_true, dtype=np.float64).reshape(-1)
    guess = np.asarray(estimates, dtype=np.float64).reshape(-1)
    if truth.shape != guess.shape:
        raise ValueError(f"{len(truth)} labels but {len(guess)} estimates")
    if not len(truth):
        return {}
    metrics = {
        "mae": float(mean_absolute_error(truth, guess)),
        "rmse": math.sqrt(float(mean_squared_error(truth, guess))),
    }
    if len(truth) > 1 and np.ptp(truth) > 0:
        metrics["r2"] = float(r2_score(truth, guess))
    return _finite(metrics)


def recall_at_fpr(positives: ArrayLike, score: ArrayLike, max_fpr: float) -> float:
    """Return the highest recall of any threshold on ``score`` whose false-positive rate is at
    most ``max_fpr`` (NaN when the rows hold only one class).

    Args:
        positives: Whether each row is of the positive class.
        score: The positive class's score of each row.
        max_fpr: The largest false-positive rate accepted, between 0 and 1.
    """
    truth = np.asarray(positives, dtype=bool)
    if truth.all() or not truth.any():
        return math.nan
    fpr, tpr, _ = roc_curve(truth, np.asarray(score, dtype=np.float64))
    return float(np.max(tpr[fpr <= max_fpr]))


def _binary(
    truth: NDArray[np.bool_],
    picked: NDArray[np.bool_],
    score: NDArray[np.float64],
    max_fpr: float | None,
) -> Metrics:
    metrics = {
        "precision": float(precision_score(truth, picked, zero_division=0)),
        "recall": float(recall_score(truth, picked, zero_division=0)),
        "f1": float(f1_score(truth, picked, zero_division=0)),
    }
    if truth.any() and not truth.all():
        metrics["roc_auc"] = float(roc_auc_score(truth, score))
        metrics["average_precision"] = float(average_precision_score(truth, score))
    if max_fpr is not None:
        metrics["recall_at_fpr"] = recall_at_fpr(truth, score, max_fpr)
    return metrics


def _multiclass(
    truth: NDArray[np.intp], picked: NDArray[np.intp], proba: NDArray[np.float64]
) -> Metrics:
    labels = list(range(proba.shape[1]))
    # Macro averages over the classes seen in either the labels or the predictions, as
    # scikit-learn does when no labels are given; a class absent from both says nothing.
    seen = sorted(set(truth.tolist()) | set(picked.tolist()))
    metrics = {
        name: float(score(truth, picked, labels=seen, average="macro", zero_division=0))
        for name, score in (
            ("precision", precision_score),
            ("recall", recall_score),
            ("f1", f1_score),
        )
    }
    # One-vs-rest, over the classes that are present and not alone: the same as scikit-learn's
    # multi_class="ovr" when every class is present, and still defined when one is missing.
    aucs = [
        float(roc_auc_score(truth == c, proba[:, c]))
        for c in labels
        if (truth == c).any() and not (truth == c).all()
    ]
    if aucs:
        metrics["roc_auc"] = float(np.mean(aucs))
    return metrics


def _log_loss(truth: NDArray[np.intp], proba: NDArray[np.float64]) -> float:
    """Cross-entropy of the true class's probability, rows normalised to sum to 1 and clipped
    away from 0 (as scikit-learn's ``log_loss`` does)."""
    totals = proba.sum(axis=1, keepdims=True)
    normalised = np.divide(
        proba, totals, out=np.full_like(proba, 1 / proba.shape[1]), where=totals > 0
    )
    chosen = np.clip(normalised[np.arange(len(truth)), truth], _EPS, 1.0)
    return float(-np.mean(np.log(chosen)))


def _class_indices(y_true: Iterable[Any], classes: Sequence[Any]) -> NDArray[np.intp]:
    # Keyed by type too: True == 1 in Python, but a bool label is not the int class 1.
    index: Mapping[tuple[type, Any], int] = {_key(c): i for i, c in enumerate(classes)}
    try:
        return np.array([index[_key(y)] for y in y_true], dtype=np.intp)
    except KeyError as error:
        label = error.args[0][1]
        raise ValueError(f"label {label!r} is not one of the classes {list(classes)}") from None


def _key(label: Any) -> tuple[type, Any]:
    plain = label.item() if isinstance(label, np.generic) else label  # numpy scalars from arrays
    return type(plain), plain


def _probabilities(scores: ArrayLike, rows: int, columns: int) -> NDArray[np.float64]:
    proba = np.asarray(scores, dtype=np.float64)
    if proba.shape != (rows, columns):
        raise ValueError(f"scores must have shape ({rows}, {columns}), not {proba.shape}")
    return proba


def _finite(metrics: Metrics) -> Metrics:
    return {name: value for name, value in metrics.items() if math.isfinite(value)}
