"""One training, from training set to evaluated candidate: fit, evaluate against the champion on
the same holdout, and summarise the training data for the monitor. No I/O: the worker runs it in
a thread, so the event loop keeps answering health checks and renewing the lease meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from opentelemetry import trace

from driftloop_contracts import NumericReference
from driftloop_modeling import (
    SCORE_REFERENCE,
    BatchPrediction,
    Metrics,
    classification_metrics,
    feature_references,
    numeric_reference,
    predict,
    regression_metrics,
)
from driftloop_spec import DatasetSpec, EstimatorError, resolve_estimator
from driftloop_trainer.dataset import TrainingError, TrainingSet

__all__ = ["Outcome", "StepLog", "evaluate", "fit", "train"]

_tracer = trace.get_tracer("driftloop.trainer")


@dataclass
class StepLog:
    """How long each step of a run took, in seconds, each step in a span of its own."""

    durations: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as ``<name>_s`` inside the span ``trainer.<name>``."""
        started = time.perf_counter()
        with _tracer.start_as_current_span(f"trainer.{name}"):
            yield
        self.durations[f"{name}_s"] = round(time.perf_counter() - started, 4)


@dataclass(frozen=True)
class Outcome:
    """A fitted candidate, its metrics and the champion's on the same holdout, and the
    reference statistics of its training data."""

    model: Any
    metrics: Metrics
    champion_metrics: Metrics | None
    champion_error: str | None
    reference: dict[str, NumericReference]


def train(
    spec: DatasetSpec, data: TrainingSet, champion: Any, *, bins: int, log: StepLog
) -> Outcome:
    """Fit ``spec``'s model on ``data``, evaluate it (and ``champion``, if not ``None``) on the
    holdout, and build the reference statistics.

    Raises:
        TrainingError: The estimator cannot be built or fitted, or the promotion metric is
            undefined on the holdout.
    """
    with log.step("fit"):
        model = fit(spec, data)
    with log.step("evaluate"):
        metrics, scores = evaluate(model, spec, data)
        champion_metrics, champion_error = _evaluate_champion(champion, spec, data)
    with log.step("reference"):
        reference = feature_references(data.train_x, data.columns, bins)
        reference[SCORE_REFERENCE] = numeric_reference(scores, bins)
    return Outcome(model, metrics, champion_metrics, champion_error, reference)


def fit(spec: DatasetSpec, data: TrainingSet) -> Any:
    """A new estimator of ``spec.model``, fitted on the training rows (river: one
    ``learn_one`` per row, oldest first)."""
    try:
        model = resolve_estimator(spec.model)
    except EstimatorError as error:
        raise TrainingError(f"estimator error: {error}") from None
    try:
        if spec.model.kind == "river":
            for row, label in zip(data.train_x.tolist(), data.train_y, strict=True):
                model.learn_one(dict(zip(data.columns, row, strict=True)), label)
        else:
            model.fit(data.train_x, np.asarray(data.train_y))
    except Exception as error:  # an estimator may raise anything on data it cannot fit
        name = spec.model.final.estimator
        raise TrainingError(f"{name} failed to fit: {type(error).__name__}: {error}") from None
    return model


def evaluate(
    model: Any, spec: DatasetSpec, data: TrainingSet
) -> tuple[Metrics, NDArray[np.float64]]:
    """``model``'s metrics on the holdout, and its score of each holdout row.

    Raises:
        TrainingError: The spec's promotion metric is undefined on the holdout.
    """
    label = spec.label
    prediction = predict(model, data.holdout_x, data.columns, classes=label.classes)
    if prediction.scores is not None and prediction.classes is not None:
        metrics = classification_metrics(
            data.holdout_y,
            prediction.scores,
            prediction.classes,
            positive=label.positive,
            max_fpr=spec.promotion.max_fpr,
        )
    else:
        metrics = regression_metrics(data.holdout_y, _estimates(prediction))
    wanted = spec.promotion.metric
    if wanted not in metrics:
        raise TrainingError(
            f"the promotion metric {wanted} is undefined on the {len(data.holdout_y)} holdout "
            f"rows (classes there: {sorted({str(y) for y in data.holdout_y})})"
        )
    return metrics, _scores(prediction, spec)


def _evaluate_champion(
    champion: Any, spec: DatasetSpec, data: TrainingSet
) -> tuple[Metrics | None, str | None]:
    if champion is None:
        return None, None
    try:
        metrics, _ = evaluate(champion, spec, data)
    except Exception as error:  # another spec's columns, a broken model: judged alone
        return {}, f"the champion could not be evaluated: {type(error).__name__}: {error}"
    return metrics, None


def _scores(prediction: BatchPrediction, spec: DatasetSpec) -> NDArray[np.float64]:
    """The score the monitor watches: the positive class's probability (binary), the highest
    class probability (multiclass), the estimate (regression)."""
    scores, classes = prediction.scores, prediction.classes
    if scores is None or classes is None:
        return _estimates(prediction)
    if spec.label.positive is not None:
        return np.asarray(scores[:, classes.index(spec.label.positive)], dtype=np.float64)
    return np.asarray(scores.max(axis=1), dtype=np.float64)


def _estimates(prediction: BatchPrediction) -> NDArray[np.float64]:
    assert prediction.estimates is not None  # a regressor's prediction has them
    return prediction.estimates
