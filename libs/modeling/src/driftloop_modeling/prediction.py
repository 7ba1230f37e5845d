"""Vectorised prediction of scikit-learn and river models, and the feature-vector hash.

One call predicts a whole batch: a scikit-learn model gets one ``predict_proba`` (or
``predict``) over a numpy matrix; a river model gets ``predict_proba_many`` / ``predict_many``
over a DataFrame when every step of it is a mini-batch estimator, and ``predict_proba_one`` /
``predict_one`` row by row otherwise. Per-row Python calls cost ~1,000 times more than a batched
call, so the batch is the unit everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from river import base as river_base
from river import compose as river_compose
from sklearn.base import is_classifier

__all__ = [
    "BatchPrediction",
    "ClassLabel",
    "class_key",
    "feature_hashes",
    "is_classifier_model",
    "predict",
]

ClassLabel = bool | int | str
"""A class of a classifier, as the spec declares it: a boolean, an integer or a string."""

Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BatchPrediction:
    """A model's predictions for a batch of feature vectors, row ``i`` for input row ``i``.

    Attributes:
        predicted: The prediction per row: for a classifier, the class with the highest score
            (the first listed on a tie); for a regressor, the estimate as a float.
        classes: A classifier's classes, the columns of ``scores``; ``None`` for a regressor.
        scores: A classifier's probability per row and class, shape ``(rows, len(classes))``,
            each within [0, 1] (or NaN where the model answered NaN); ``None`` for a regressor.
        estimates: A regressor's estimates as a float array, shape ``(rows,)`` (the same
            numbers as ``predicted``); ``None`` for a classifier.
    """

    predicted: list[ClassLabel | float]
    classes: tuple[ClassLabel, ...] | None = None
    scores: Matrix | None = None
    estimates: NDArray[np.float64] | None = None

    def score_maps(self) -> list[dict[str, float] | None]:
        """Return each row's scores keyed by :func:`class_key` (``None`` rows for a regressor)."""
        if self.classes is None or self.scores is None:
            return [None] * len(self.predicted)
        keys = [class_key(c) for c in self.classes]
        return [dict(zip(keys, row, strict=True)) for row in self.scores.tolist()]


def class_key(label: ClassLabel) -> str:
    """Return a class as a string key: ``true``/``false`` for booleans (as in JSON), the decimal
    digits of an integer, a string unchanged.

    Args:
        label: A class of a classifier.
    """
    return json.dumps(label) if isinstance(label, bool) else str(label)


def is_classifier_model(model: Any) -> bool:
    """Return whether ``model`` (scikit-learn, or river, pipelines included) is a classifier."""
    if isinstance(model, river_base.Base):
        return isinstance(_river_final_step(model), river_base.Classifier)
    return bool(is_classifier(model))


def predict(
    model: Any,
    features: Matrix,
    feature_names: Sequence[str],
    *,
    classes: Sequence[ClassLabel] | None = None,
) -> BatchPrediction:
    """Predict a batch of feature vectors with one vectorised call where the model allows it.

    Args:
        model: A fitted scikit-learn estimator or pipeline, or a river model or pipeline.
        features: The vectors, shape ``(rows, len(feature_names))``, in the spec's column order.
        feature_names: The column names: river models read features by name, and a scikit-learn
            model fitted on a DataFrame must be given the same columns.
        classes: For a classifier, the columns ``scores`` must have (the spec's classes): a
            class the model never learned scores 0. ``None`` keeps the model's own classes (for
            river, those it returned for this batch, sorted).

    Returns:
        The predictions; an empty batch gives empty predictions without calling the model.

    Raises:
        ValueError: ``features`` has the wrong shape, the model scores a class outside
            ``classes``, or a scikit-learn model was fitted on other feature names.
    """
    matrix = _checked(features, feature_names)
    if not len(matrix):
        return _empty(model, classes)
    if isinstance(model, river_base.Base):
        frame = _river_frame(model, matrix, feature_names)
        if isinstance(_river_final_step(model), river_base.Classifier):
            return _classified(frame, classes)
        return _estimated(frame.iloc[:, 0].to_numpy(np.float64))
    rows = _sklearn_input(model, matrix, feature_names)
    if is_classifier(model):
        proba = pd.DataFrame(
            np.asarray(model.predict_proba(rows), dtype=np.float64),
            columns=list(np.asarray(model.classes_).tolist()),
        )
        return _classified(proba, classes)
    return _estimated(np.asarray(model.predict(rows), dtype=np.float64).reshape(-1))


def feature_hashes(feature_names: Sequence[str], features: Matrix) -> list[str]:
    """Return the canonical SHA-256 of each feature vector, as 64 lowercase hex characters.

    The hash of a vector is ``sha256(names + b"\\x00" + values)`` where ``names`` is the
    feature names joined by ``"\\n"`` in UTF-8 and ``values`` the values as IEEE-754 float64,
    little-endian, in the same order, with ``-0.0`` written as ``0.0``. Names can hold neither
    byte, so the encoding is unambiguous, and the same numbers under another spec's columns hash
    differently. The batch is converted to bytes once; only the digests are per row.

    Args:
        feature_names: The column names, in order.
        features: The vectors, shape ``(rows, len(feature_names))``.
    """
    matrix = _checked(features, feature_names)
    # Adding 0.0 turns -0.0 into 0.0 and leaves every other finite value unchanged.
    raw = np.ascontiguousarray(matrix + 0.0, dtype="<f8").tobytes()
    prefix = hashlib.sha256("\n".join(feature_names).encode() + b"\x00")
    width = matrix.shape[1] * 8
    digests: list[str] = []
    for start in range(0, len(raw), width):
        row = prefix.copy()
        row.update(raw[start : start + width])
        digests.append(row.hexdigest())
    return digests


def _checked(features: Matrix, feature_names: Sequence[str]) -> Matrix:
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ValueError(
            f"features must have shape (rows, {len(feature_names)}), not {matrix.shape}"
        )
    return matrix


def _classified(proba: pd.DataFrame, classes: Sequence[ClassLabel] | None) -> BatchPrediction:
    """Scores aligned to ``classes`` (or the model's), clipped into [0, 1], and the argmax."""
    learned = proba.columns.tolist()
    if classes is None:
        columns: list[ClassLabel] = sorted(learned)
    else:
        columns = list(classes)
        unknown = [c for c in learned if c not in columns]
        if unknown:
            raise ValueError(f"the model scores classes {unknown} that are not in {columns}")
    scores = proba.reindex(columns=columns, fill_value=0.0).to_numpy(np.float64)
    scores = np.clip(scores, 0.0, 1.0)  # float noise such as 1.0000000002; NaN stays NaN
    if not columns:
        raise ValueError("the model returned no class scores (is it trained?)")
    picked = np.argmax(scores, axis=1)
    predicted: list[ClassLabel | float] = [columns[i] for i in picked.tolist()]
    return BatchPrediction(predicted=predicted, classes=tuple(columns), scores=scores)


def _estimated(estimates: NDArray[np.float64]) -> BatchPrediction:
    return BatchPrediction(predicted=estimates.tolist(), estimates=estimates)


def _empty(model: Any, classes: Sequence[ClassLabel] | None) -> BatchPrediction:
    if not is_classifier_model(model):
        return _estimated(np.zeros(0, np.float64))
    if classes is None:
        classes = np.asarray(getattr(model, "classes_", [])).tolist()
    return BatchPrediction(
        predicted=[], classes=tuple(classes), scores=np.zeros((0, len(classes)), np.float64)
    )


def _sklearn_input(model: Any, matrix: Matrix, feature_names: Sequence[str]) -> Any:
    """The numpy matrix, or a DataFrame when the model was fitted on named columns (scikit-learn
    warns when names it learned are missing, and would silently misread reordered columns)."""
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is None:
        return matrix
    if list(fitted) != list(feature_names):
        raise ValueError(
            f"the model was fitted on features {list(fitted)}, not {list(feature_names)}"
        )
    return pd.DataFrame(matrix, columns=list(feature_names))


def _river_final_step(model: Any) -> Any:
    if isinstance(model, river_compose.Pipeline):
        return list(model.steps.values())[-1]
    return model


def _river_batchable(model: Any) -> bool:
    """Whether every step has a ``*_many`` method (the pipeline's own would fail otherwise)."""
    steps = list(model.steps.values()) if isinstance(model, river_compose.Pipeline) else [model]
    *transformers, final = steps
    mini = (river_base.MiniBatchClassifier, river_base.MiniBatchRegressor)
    return isinstance(final, mini) and all(
        isinstance(t, river_base.MiniBatchTransformer) for t in transformers
    )


def _river_frame(model: Any, matrix: Matrix, feature_names: Sequence[str]) -> pd.DataFrame:
    """A river model's output for the batch as a DataFrame: one column per class (probabilities)
    for a classifier, a single column of estimates for a regressor."""
    classifier = isinstance(_river_final_step(model), river_base.Classifier)
    if _river_batchable(model):
        frame = pd.DataFrame(matrix, columns=list(feature_names))
        if classifier:
            return pd.DataFrame(model.predict_proba_many(frame))
        return pd.DataFrame({"estimate": model.predict_many(frame)})
    rows = [dict(zip(feature_names, row, strict=True)) for row in matrix.tolist()]
    if classifier:
        # a class missing from a row's answer has probability 0 (river leaves it out)
        answers = [model.predict_proba_one(row) for row in rows]
        return pd.DataFrame(answers, dtype=np.float64).fillna(0.0)
    return pd.DataFrame({"estimate": [model.predict_one(row) for row in rows]}, dtype=np.float64)
