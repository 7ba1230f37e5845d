"""Evaluation metrics a promotion policy can compare models on, per task and direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["METRICS", "MetricInfo", "MetricName", "higher_is_better", "metrics_for"]

MetricName = Literal[
    "roc_auc",
    "average_precision",
    "accuracy",
    "f1",
    "log_loss",
    "recall_at_fpr",
    "mae",
    "rmse",
    "r2",
]
"""The name of a metric a promotion policy may use."""


@dataclass(frozen=True)
class MetricInfo:
    """What a metric measures and which way is better.

    Attributes:
        tasks: The tasks the metric is defined for.
        higher_is_better: Whether a larger value means a better model.
        description: One line on what it is.
    """

    tasks: frozenset[str]
    higher_is_better: bool
    description: str


_BINARY = frozenset({"binary"})
_CLASSIFIERS = frozenset({"binary", "multiclass"})
_REGRESSION = frozenset({"regression"})

METRICS: dict[str, MetricInfo] = {
    "roc_auc": MetricInfo(
        _CLASSIFIERS, True, "area under the ROC curve (one-vs-rest if multiclass)"
    ),
    "average_precision": MetricInfo(_BINARY, True, "area under the precision-recall curve"),
    "accuracy": MetricInfo(_CLASSIFIERS, True, "fraction of correct predictions"),
    "f1": MetricInfo(_CLASSIFIERS, True, "F1 of the positive class (macro if multiclass)"),
    "log_loss": MetricInfo(_CLASSIFIERS, False, "cross-entropy of the predicted probabilities"),
    "recall_at_fpr": MetricInfo(_BINARY, True, "recall at the threshold giving max_fpr"),
    "mae": MetricInfo(_REGRESSION, False, "mean absolute error"),
    "rmse": MetricInfo(_REGRESSION, False, "root mean squared error"),
    "r2": MetricInfo(_REGRESSION, True, "coefficient of determination"),
}
"""Every metric by name."""


def higher_is_better(metric: str) -> bool:
    """Return whether a larger value of ``metric`` means a better model.

    Args:
        metric: A metric name, e.g. ``"roc_auc"`` or ``"mae"``.

    Returns:
        True for scores (roc_auc, accuracy, ...), False for losses and errors.

    Raises:
        KeyError: If the metric is unknown.
    """
    return METRICS[metric].higher_is_better


def metrics_for(task: str) -> tuple[str, ...]:
    """Return the names of the metrics defined for a task, in ``METRICS`` order.

    Args:
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    Returns:
        The metric names.
    """
    return tuple(name for name, info in METRICS.items() if task in info.tasks)
