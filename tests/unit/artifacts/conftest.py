"""Small data sets, keys and fitted models for the artifact tests."""

from __future__ import annotations

import random

import numpy as np
import pytest
from numpy.typing import NDArray
from river import linear_model, preprocessing
from river.compose import Pipeline as RiverPipeline

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


@pytest.fixture
def features() -> NDArray[np.float64]:
    """200 rows of 4 standard normal features."""
    return np.random.default_rng(7).normal(size=(200, 4))


@pytest.fixture
def labels(features: NDArray[np.float64]) -> NDArray[np.int64]:
    """A binary label that depends on the first two features."""
    return (features[:, 0] + features[:, 1] > 0).astype(np.int64)


@pytest.fixture
def river_model() -> RiverPipeline:
    """A scaled river logistic regression after a few hundred ``learn_one`` calls."""
    model = preprocessing.StandardScaler() | linear_model.LogisticRegression()
    rng = random.Random(3)
    for _ in range(300):
        x = {"a": rng.gauss(0, 1), "b": rng.gauss(0, 1)}
        model.learn_one(x, x["a"] + 0.5 * x["b"] > 0)
    return model
