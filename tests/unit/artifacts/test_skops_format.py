"""scikit-learn models through skops: round trips, and refusal of anything off the allow-list."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import skops.io
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from driftloop_artifacts import (
    Artifact,
    ArtifactRefused,
    UnsupportedModelError,
    decode_model,
    encode_model,
    sha256_hex,
)
from driftloop_artifacts.skops_format import refused_types

pytestmark = pytest.mark.unit

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


class Custom:
    """A class of the test suite: skops does not know it, driftloop does not allow it."""


def _skops_artifact(payload: bytes) -> Artifact:
    return Artifact(format="skops", payload=payload, sha256=sha256_hex(payload))


def _fitted_hgb(features: Floats, labels: Ints) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(features, labels)


def _fitted_pipeline(features: Floats, labels: Ints) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)


@pytest.mark.parametrize("fit", [_fitted_hgb, _fitted_pipeline])
def test_round_trip_predicts_the_same(
    fit: Callable[[Floats, Ints], Any], features: Floats, labels: Ints
) -> None:
    model = fit(features, labels)
    artifact = encode_model(model)
    loaded = decode_model(artifact)
    assert artifact.format == "skops"
    assert artifact.signature is None
    assert artifact.sha256 == sha256_hex(artifact.payload)
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))


def test_hist_gradient_boosting_and_forests_need_only_allow_listed_extra_types(
    features: Floats, labels: Ints
) -> None:
    hgb = skops.io.dumps(_fitted_hgb(features, labels))
    forest = skops.io.dumps(RandomForestClassifier(n_estimators=2).fit(features, labels))
    assert skops.io.get_untrusted_types(data=hgb) == [
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    ]
    assert skops.io.get_untrusted_types(data=forest) == ["sklearn.tree._tree.Tree"]
    assert refused_types(hgb) == refused_types(forest) == []


def _with_attribute(value: object) -> Callable[[Floats, Ints], Any]:
    def build(features: Floats, labels: Ints) -> Any:
        model = LogisticRegression().fit(features, labels)
        model.note_ = value
        return model

    return build


@pytest.mark.parametrize(
    ("build", "type_name"),
    [
        (_with_attribute(Fraction(1, 3)), "fractions.Fraction"),
        (_with_attribute(Custom()), f"{__name__}.Custom"),
        (lambda features, labels: FunctionTransformer(func=eval), "builtins.eval"),
    ],
    ids=["fraction", "custom-class", "eval"],
)
def test_types_off_the_allow_list_are_refused_by_name(
    build: Callable[[Floats, Ints], Any], type_name: str, features: Floats, labels: Ints
) -> None:
    payload = skops.io.dumps(build(features, labels))
    with pytest.raises(ArtifactRefused, match=re.escape(type_name)):
        decode_model(_skops_artifact(payload))


def test_encoding_a_model_driftloop_would_not_load_fails_early(
    features: Floats, labels: Ints
) -> None:
    with pytest.raises(UnsupportedModelError, match=re.escape("fractions.Fraction")):
        encode_model(_with_attribute(Fraction(1, 3))(features, labels))


def _rewrite_function(payload: bytes, module: str, name: str) -> bytes:
    """Point every function reference in a skops file at ``module.name``."""
    source = zipfile.ZipFile(io.BytesIO(payload))
    schema = json.loads(source.read("schema.json"))

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("__loader__") == "FunctionNode":
                node["__module__"], node["__class__"] = module, name
            for child in node.values():
                visit(child)
        elif isinstance(node, list):
            for child in node:
                visit(child)

    visit(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = json.dumps(schema) if item == "schema.json" else source.read(item)
            target.writestr(item, data)
    return out.getvalue()


def test_a_stdlib_function_reexported_by_a_sklearn_module_is_refused() -> None:
    # sklearn.utils._testing imports subprocess.check_output: a "sklearn." prefix would trust it.
    payload = _rewrite_function(
        skops.io.dumps(FunctionTransformer(func=np.log1p)), "sklearn.utils._testing", "check_output"
    )
    with pytest.raises(ArtifactRefused, match=r"sklearn\.utils\._testing\.check_output"):
        decode_model(_skops_artifact(payload))


def test_a_hist_gradient_boosting_tree_pointing_outside_its_nodes_is_refused(
    features: Floats, labels: Ints
) -> None:
    model = _fitted_hgb(features, labels)
    model._predictors[0][0].nodes["left"][0] = 10_000
    with pytest.raises(ArtifactRefused, match="TreePredictor child index out of range"):
        decode_model(_skops_artifact(skops.io.dumps(model)))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("feature", 99, "feature index out of range"),
        ("left_child", 0, "child index out of range"),  # a cycle: predict would never return
    ],
)
def test_a_decision_tree_with_a_bad_index_is_refused(
    field: str, value: int, message: str, features: Floats, labels: Ints
) -> None:
    model = RandomForestClassifier(n_estimators=2, random_state=0).fit(features, labels)
    tree = model.estimators_[1].tree_
    state = tree.__getstate__()
    state["nodes"][field][0] = value
    tree.__setstate__(state)
    with pytest.raises(ArtifactRefused, match=message):
        decode_model(_skops_artifact(skops.io.dumps(model)))


def test_bytes_that_are_not_a_skops_file_are_refused() -> None:
    with pytest.raises(ArtifactRefused, match="not a readable skops artifact"):
        decode_model(_skops_artifact(b"definitely not a zip file"))
