"""Format dispatch, envelope checks and framework metadata."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from numpy.typing import NDArray
from river.compose import Pipeline as RiverPipeline
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import Ridge

from driftloop_artifacts import (
    Artifact,
    ArtifactRefused,
    UnsupportedModelError,
    decode_model,
    encode_model,
    format_for,
)
from tests.unit.artifacts.conftest import KEY

pytestmark = pytest.mark.unit


def test_the_format_follows_the_model_type(river_model: RiverPipeline) -> None:
    assert format_for(Ridge()) == "skops"
    assert format_for(river_model) == "river-pickle"
    with pytest.raises(UnsupportedModelError, match="dict"):
        format_for({"weights": [1.0]})


def test_metadata_records_the_framework_versions(river_model: RiverPipeline) -> None:
    sklearn_meta = encode_model(Ridge()).metadata
    river_meta = encode_model(river_model, signing_key=KEY).metadata
    assert set(sklearn_meta) == {"python", "numpy", "scikit-learn", "skops"}
    assert set(river_meta) == {"python", "numpy", "river"}
    assert sklearn_meta["python"] == river_meta["python"] == platform.python_version()


def test_a_digest_from_the_registry_must_match_too(
    features: NDArray[np.float64], labels: NDArray[np.int64]
) -> None:
    artifact = encode_model(Ridge().fit(features, labels))
    decode_model(artifact, expected_sha256=artifact.sha256.upper())
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        decode_model(artifact, expected_sha256="0" * 64)


@pytest.mark.parametrize(
    "model", [HistGradientBoostingRegressor(), RandomForestClassifier(), Ridge()], ids=repr
)
def test_unfitted_models_round_trip(model: BaseEstimator) -> None:
    assert repr(decode_model(encode_model(model))) == repr(model)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ArtifactRefused, match="unknown artifact format 'pickle'"):
        Artifact(format="pickle", payload=b"", sha256="")  # type: ignore[arg-type]


def test_the_payload_stays_out_of_the_repr() -> None:
    assert "payload" not in repr(encode_model(Ridge()))
