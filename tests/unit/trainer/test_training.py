"""One training: fit the spec's model, evaluate it and the champion, summarise the data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftloop_modeling import SCORE_REFERENCE
from driftloop_offline import LABEL
from driftloop_spec import DatasetSpec, load_spec
from driftloop_trainer.dataset import TrainingError, TrainingSet, build_training_set
from driftloop_trainer.training import StepLog, fit, train
from tests.integration.trainer.data import FRAUD, labelled_rows, trainer_spec

pytestmark = pytest.mark.unit

SPEC, _ = trainer_spec("cards")


def training_set(spec: DatasetSpec, count: int = 200, **options: Any) -> TrainingSet:
    return build_training_set(labelled_rows(spec, count, **options), spec)


def test_a_candidate_is_fitted_evaluated_and_summarised() -> None:
    data = training_set(SPEC)
    log = StepLog()
    outcome = train(SPEC, data, None, bins=10, log=log)
    assert isinstance(outcome.model, LogisticRegression)
    assert outcome.metrics["roc_auc"] > 0.8
    assert {"accuracy", "log_loss", "precision", "recall"} <= outcome.metrics.keys()
    assert (outcome.champion_metrics, outcome.champion_error) == (None, None)
    assert list(outcome.reference) == [*SPEC.feature_columns(), SCORE_REFERENCE]
    assert outcome.reference["log_amount"].count == len(data.train_y)
    assert outcome.reference[SCORE_REFERENCE].count == len(data.holdout_y)
    assert set(log.durations) == {"fit_s", "evaluate_s", "reference_s"}


def test_the_champion_is_judged_on_the_same_holdout() -> None:
    data = training_set(SPEC)
    champion = LogisticRegression(C=0.001).fit(data.train_x, np.asarray(data.train_y))
    outcome = train(SPEC, data, champion, bins=10, log=StepLog())
    assert outcome.champion_metrics is not None
    assert outcome.champion_metrics.keys() == outcome.metrics.keys()
    assert outcome.champion_metrics != outcome.metrics


def test_a_champion_that_cannot_predict_these_columns_is_reported_not_fatal() -> None:
    data = training_set(SPEC)
    other_columns = LogisticRegression().fit(data.train_x[:, :3], np.asarray(data.train_y))
    outcome = train(SPEC, data, other_columns, bins=10, log=StepLog())
    assert outcome.champion_metrics == {}
    assert outcome.champion_error is not None
    assert outcome.champion_error.startswith("the champion could not be evaluated: ValueError")
    assert "roc_auc" in outcome.metrics


def test_a_river_model_learns_row_by_row() -> None:
    river = {"kind": "river", "estimator": "river.linear_model.LogisticRegression"}
    spec, _ = trainer_spec("cards", model=river)
    outcome = train(spec, training_set(spec), None, bins=10, log=StepLog())
    assert type(outcome.model).__module__.startswith("river.")
    assert outcome.metrics["roc_auc"] > 0.7


def test_a_regressor_is_judged_on_its_errors() -> None:
    spec = load_spec(FRAUD.parent / "sensors.yaml")
    rows = labelled_rows(spec, 300)
    first = rows[spec.feature_columns()[0]]
    rows[LABEL] = pd.Series((3.0 * first + 1.0).tolist(), dtype=object)
    data = build_training_set(rows, spec)
    outcome = train(spec, data, None, bins=10, log=StepLog())
    assert outcome.metrics.keys() == {"mae", "rmse", "r2"}
    assert outcome.metrics["r2"] > 0.99
    assert outcome.reference[SCORE_REFERENCE].count == len(data.holdout_y)


def test_a_multiclass_score_is_the_highest_class_probability() -> None:
    document = SPEC.to_document()
    document["label"] = {
        "name": "risk",
        "task": "multiclass",
        "type": "string",
        "classes": ["low", "mid", "high"],
    }
    document["promotion"] = {"metric": "accuracy", "mode": "automatic"}
    spec = DatasetSpec.from_document(document)
    rows = labelled_rows(spec, 150)
    first = rows[spec.feature_columns()[0]]
    rows[LABEL] = [["low", "mid", "high"][int(np.clip(v + 1, 0, 2))] for v in first]
    data = build_training_set(rows, spec)
    outcome = train(spec, data, None, bins=10, log=StepLog())
    assert outcome.reference[SCORE_REFERENCE].bin_edges[0] >= 1 / 3
    assert outcome.metrics["accuracy"] > 0.6


def test_an_estimator_that_cannot_fit_fails_the_run_with_its_error() -> None:
    bad = {
        "kind": "sklearn",
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"C": -1.0},
    }
    spec, _ = trainer_spec("cards", model=bad)
    with pytest.raises(
        TrainingError, match="LogisticRegression failed to fit: InvalidParameterError"
    ):
        fit(spec, training_set(spec))


def test_a_promotion_metric_undefined_on_the_holdout_fails_the_run() -> None:
    data = training_set(SPEC)
    one_class = TrainingSet(**{**vars(data), "holdout_y": [False] * len(data.holdout_y)})
    with pytest.raises(TrainingError, match="the promotion metric roc_auc is undefined"):
        train(SPEC, one_class, None, bins=10, log=StepLog())
