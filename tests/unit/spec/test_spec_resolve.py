"""resolve_estimator builds the models specs name, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from driftloop_spec import ModelSpec, PipelineStep, parse_spec
from driftloop_spec.estimator import ModelKind
from driftloop_spec.resolve import EstimatorError, resolve_estimator
from tests.unit.spec.helpers import FRAUD, SENSORS, SPECS

pytestmark = pytest.mark.unit


def test_fraud_model_is_a_configured_hist_gradient_boosting_classifier() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = resolve_estimator(parse_spec(FRAUD).model)
    assert isinstance(model, HistGradientBoostingClassifier)
    assert model.get_params()["max_iter"] == 200
    assert model.get_params()["l2_regularization"] == 1.0


def test_sensors_model_is_a_scaler_and_ridge_pipeline() -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = resolve_estimator(parse_spec(SENSORS).model)
    assert isinstance(model, Pipeline)
    scaler, ridge = (step for _, step in model.steps)
    assert isinstance(scaler, StandardScaler)
    assert isinstance(ridge, Ridge)
    assert ridge.alpha == 1.0


def test_resolved_model_trains() -> None:
    model = resolve_estimator(parse_spec(SENSORS).model)
    model.fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [1.0, 2.0, 3.0])
    assert len(model.predict([[1.0, 1.0]])) == 1


def test_river_model_and_pipeline() -> None:
    from river import compose, linear_model

    single = ModelSpec(
        kind="river", estimator="river.linear_model.LogisticRegression", params={"l2": 0.01}
    )
    model = resolve_estimator(single)
    assert isinstance(model, linear_model.LogisticRegression)
    assert model.l2 == 0.01
    pipeline = ModelSpec(
        kind="river",
        pipeline=(
            PipelineStep(estimator="river.preprocessing.StandardScaler"),
            PipelineStep(estimator="river.linear_model.LogisticRegression"),
        ),
    )
    built = resolve_estimator(pipeline)
    assert isinstance(built, compose.Pipeline)
    built.learn_one({"x": 1.0}, True)
    assert built.predict_one({"x": 1.0}) in (True, False)


def _unchecked(kind: ModelKind, estimator: str, params: dict[str, Any] | None = None) -> ModelSpec:
    # Skips validation, as a tampered or hand-built document would.
    return ModelSpec.model_construct(
        kind=kind, estimator=estimator, params=params or {}, pipeline=None
    )


@pytest.mark.parametrize(
    ("kind", "path", "words"),
    [
        ("sklearn", "os.system", "must start with 'sklearn.' or 'river.'"),
        ("sklearn", "sklearn.base._Private", "not a public identifier"),
        ("sklearn", "river.linear_model.LogisticRegression", "is not a sklearn class"),
        ("sklearn", "sklearn.linear_model.NoSuchModel", "has no 'NoSuchModel'"),
        ("sklearn", "sklearn.no_such_module.Model", "cannot import"),
        ("sklearn", "sklearn.datasets.load_iris", "is not a class"),
        ("sklearn", "sklearn.preprocessing.StandardScaler", "has no predict"),
        ("river", "river.preprocessing.StandardScaler", "has no predict_one"),
    ],
)
def test_refuses_what_is_not_an_allowed_estimator(kind: ModelKind, path: str, words: str) -> None:
    with pytest.raises(EstimatorError, match=words):
        resolve_estimator(_unchecked(kind, path))


def test_refuses_a_predictor_in_the_middle_of_a_pipeline() -> None:
    model = ModelSpec(
        kind="sklearn",
        pipeline=(
            PipelineStep(estimator="sklearn.linear_model.Ridge"),
            PipelineStep(estimator="sklearn.linear_model.Ridge"),
        ),
    )
    with pytest.raises(EstimatorError, match="is not a sklearn transformer: it has no transform"):
        resolve_estimator(model)


def test_refuses_parameters_the_class_does_not_take() -> None:
    model = ModelSpec(kind="sklearn", estimator="sklearn.linear_model.Ridge", params={"alhpa": 1.0})
    with pytest.raises(EstimatorError, match="rejects its params"):
        resolve_estimator(model)


def test_importing_the_library_does_not_import_sklearn_or_river() -> None:
    code = (
        "import sys, driftloop_spec\n"
        "driftloop_spec.load_spec('specs/fraud.yaml')\n"
        "assert not {'sklearn', 'river'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=SPECS.parent)
