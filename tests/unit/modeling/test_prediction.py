"""Vectorised prediction against the libraries' own answers, and the canonical feature hash."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pandas as pd
import pytest
from river import compose, linear_model, preprocessing, tree
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from driftloop_modeling import class_key, feature_hashes, is_classifier_model, predict

pytestmark = pytest.mark.unit

NAMES = ["a", "b", "c"]
RNG = np.random.default_rng(7)
X = RNG.normal(size=(300, 3))
Y_BOOL = X[:, 0] + 0.5 * X[:, 1] > 0
Y_MULTI = np.digitize(X[:, 0], [-0.5, 0.5])  # classes 0, 1, 2


def _river_rows(matrix: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(NAMES, row, strict=True)) for row in matrix.tolist()]


def _river_fit(model: object, labels: np.ndarray) -> object:
    for row, label in zip(_river_rows(X), labels.tolist(), strict=True):
        model.learn_one(row, label)  # type: ignore[attr-defined]
    return model


def test_sklearn_classifier_scores_match_predict_proba() -> None:
    model = LogisticRegression().fit(X, Y_BOOL)
    result = predict(model, X[:20], NAMES, classes=[False, True])
    assert result.classes == (False, True)
    assert result.scores is not None
    np.testing.assert_allclose(result.scores, model.predict_proba(X[:20]))
    assert result.predicted == model.predict(X[:20]).tolist()


def test_scores_follow_the_given_class_order() -> None:
    model = HistGradientBoostingClassifier(max_iter=20).fit(X, Y_MULTI)
    result = predict(model, X[:10], NAMES, classes=[2, 0, 1])
    assert result.scores is not None
    np.testing.assert_allclose(result.scores, model.predict_proba(X[:10])[:, [2, 0, 1]])
    assert result.predicted == model.predict(X[:10]).tolist()


def test_a_class_outside_the_given_ones_is_refused() -> None:
    model = LogisticRegression().fit(X, Y_MULTI)
    with pytest.raises(ValueError, match="not in"):
        predict(model, X[:5], NAMES, classes=[0, 1])


def test_a_class_the_model_never_learned_scores_zero() -> None:
    model = LogisticRegression().fit(X, Y_BOOL.astype(int))
    result = predict(model, X[:5], NAMES, classes=[0, 1, 2])
    assert result.scores is not None
    assert (result.scores[:, 2] == 0).all()


def test_sklearn_regressor_matches_predict() -> None:
    model = LinearRegression().fit(X, X @ [1.0, 2.0, 3.0])
    result = predict(model, X[:8], NAMES)
    assert result.classes is None
    assert result.scores is None
    assert result.estimates is not None
    np.testing.assert_allclose(result.estimates, model.predict(X[:8]))


def test_a_model_fitted_on_named_columns_gets_them_and_checks_them() -> None:
    model = LogisticRegression().fit(pd.DataFrame(X, columns=NAMES), Y_BOOL)
    result = predict(model, X[:5], NAMES)  # no "missing feature names" warning (errors here)
    assert result.predicted == model.predict(pd.DataFrame(X[:5], columns=NAMES)).tolist()
    with pytest.raises(ValueError, match="fitted on features"):
        predict(model, X[:5], ["c", "b", "a"])


def test_river_minibatch_pipeline_matches_predict_proba_one() -> None:
    model = _river_fit(
        compose.Pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression()),
        Y_BOOL,
    )
    result = predict(model, X[:10], NAMES, classes=[False, True])
    expected = [model.predict_proba_one(r)[True] for r in _river_rows(X[:10])]  # type: ignore[attr-defined]
    assert result.scores is not None
    np.testing.assert_allclose(result.scores[:, 1], expected)
    assert result.predicted == [p >= 0.5 for p in expected]


def test_river_model_without_batch_methods_is_predicted_row_by_row() -> None:
    model = _river_fit(tree.HoeffdingTreeClassifier(grace_period=50), Y_MULTI)
    result = predict(model, X[:10], NAMES, classes=[0, 1, 2])
    rows = _river_rows(X[:10])
    assert result.predicted == [model.predict_one(r) for r in rows]  # type: ignore[attr-defined]
    assert result.scores is not None
    for row, scores in zip(rows, result.scores, strict=True):
        one = model.predict_proba_one(row)  # type: ignore[attr-defined]
        np.testing.assert_allclose(scores, [one.get(c, 0.0) for c in (0, 1, 2)])


def test_river_regressor_batch_and_row_agree() -> None:
    model = _river_fit(
        compose.Pipeline(preprocessing.StandardScaler(), linear_model.LinearRegression()),
        X @ np.array([1.0, -1.0, 0.5]),
    )
    result = predict(model, X[:10], NAMES)
    expected = [model.predict_one(r) for r in _river_rows(X[:10])]  # type: ignore[attr-defined]
    assert result.estimates is not None
    np.testing.assert_allclose(result.estimates, expected)
    assert result.predicted == pytest.approx(expected)


def test_an_empty_batch_gives_empty_predictions() -> None:
    model = LogisticRegression().fit(X, Y_BOOL)
    result = predict(model, np.zeros((0, 3)), NAMES)
    assert result.predicted == []
    assert result.classes == (False, True)
    assert result.scores is not None
    assert result.scores.shape == (0, 2)


def test_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match=r"shape \(rows, 3\)"):
        predict(LogisticRegression().fit(X, Y_BOOL), X[:, :2], NAMES)


def test_classifier_detection_sees_through_pipelines() -> None:
    assert is_classifier_model(LogisticRegression())
    assert not is_classifier_model(LinearRegression())
    assert is_classifier_model(compose.Pipeline(linear_model.LogisticRegression()))
    assert not is_classifier_model(compose.Pipeline(linear_model.LinearRegression()))


def test_score_maps_key_classes_as_strings() -> None:
    model = LogisticRegression().fit(X, Y_BOOL)
    maps = predict(model, X[:2], NAMES, classes=[False, True]).score_maps()
    assert maps[0] is not None
    assert set(maps[0]) == {"false", "true"}
    assert predict(LinearRegression().fit(X, X[:, 0]), X[:2], NAMES).score_maps() == [None, None]
    assert [class_key(c) for c in (True, 3, "x")] == ["true", "3", "x"]


def test_feature_hash_follows_its_documented_definition() -> None:
    values = np.array([[1.5, -0.0, 3.0], [0.0, 2.0, -7.25]])
    expected = [
        hashlib.sha256(b"a\nb\nc\x00" + struct.pack("<3d", *row)).hexdigest()
        for row in ([1.5, 0.0, 3.0], [0.0, 2.0, -7.25])
    ]
    assert feature_hashes(NAMES, values) == expected


def test_feature_hash_depends_on_names_and_values() -> None:
    row = np.array([[1.0, 2.0, 3.0]])
    assert feature_hashes(NAMES, row) != feature_hashes(["a", "b", "d"], row)
    assert feature_hashes(NAMES, row) != feature_hashes(NAMES, row + 1e-12)
    assert feature_hashes(NAMES, np.zeros((0, 3))) == []
