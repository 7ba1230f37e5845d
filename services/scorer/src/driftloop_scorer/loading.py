"""Loading a model version: download, verify, warm up. A version that fails any step is refused.

Decoding and the warm-up run in a worker thread, so batches keep being scored with the models
in place while a new one loads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from driftloop_artifacts import (
    Artifact,
    ArtifactError,
    ArtifactStore,
    artifact_id_from_uri,
    decode_model,
)
from driftloop_modeling import is_classifier_model, predict
from driftloop_runtime import ServedVersion, SpecCatalog
from driftloop_scorer.serving import ServedModel
from driftloop_spec import DatasetSpec

__all__ = ["ModelLoader", "ModelRefusedError", "warm_up"]

Sample = Callable[[str, list[str]], NDArray[np.float64] | None]
"""Recent feature vectors of a dataset with the given columns, if the scorer has seen any."""

CatchUp = Callable[[], Awaitable[None]]
"""Reads the applied specs again (the spec topic and the lifecycle topics are not ordered)."""


class ModelRefusedError(Exception):
    """A model version cannot serve: the reason is the message."""


class ModelLoader:
    """Turns a served version into a :class:`ServedModel`, or refuses it."""

    def __init__(
        self,
        store: ArtifactStore,
        specs: SpecCatalog,
        *,
        signing_key: bytes | None,
        warmup_rows: int,
        sample: Sample,
        catch_up: CatchUp | None = None,
    ) -> None:
        self._store = store
        self._catch_up = catch_up
        self._specs = specs
        self._key = signing_key
        self._rows = warmup_rows
        self._sample = sample

    async def load(self, version: ServedVersion) -> ServedModel:
        """Download, verify and warm up ``version``; raise ``ModelRefusedError`` if it cannot
        serve."""
        held = self._specs.get(version.dataset)
        if held is None and self._catch_up is not None:
            await self._catch_up()
            held = self._specs.get(version.dataset)
        if held is None:
            raise ModelRefusedError(f"no spec of dataset {version.dataset!r} to check it against")
        spec_version, spec = held
        artifact = await self._download(version)
        columns = list(spec.feature_columns())
        sample = self._sample(version.dataset, columns)
        if sample is None:
            sample = np.zeros((self._rows, len(columns)))
        sample = sample[-self._rows :]
        model = await asyncio.to_thread(self._verified, artifact, version, spec, sample)
        return ServedModel(
            version=version,
            model=model,
            feature_names=columns,
            classes=spec.label.classes,
            spec_version=spec_version,
            loaded_at=datetime.now(UTC),
        )

    async def _download(self, version: ServedVersion) -> Artifact:
        try:
            if version.artifact_uri is not None:
                return await self._store.get(artifact_id_from_uri(version.artifact_uri))
            stored = await self._store.find(version.model_name, version.version)
            if stored is None:
                raise ModelRefusedError(f"no artifact of {version.model_name} v{version.version}")
            return await self._store.get(stored.id)
        except ArtifactError as error:
            raise ModelRefusedError(f"download failed: {error}") from error

    def _verified(
        self,
        artifact: Artifact,
        version: ServedVersion,
        spec: DatasetSpec,
        sample: NDArray[np.float64],
    ) -> object:
        try:
            model = decode_model(
                artifact, signing_key=self._key, expected_sha256=version.artifact_sha256
            )
        except ArtifactError as error:
            raise ModelRefusedError(f"verification failed: {error}") from error
        except Exception as error:  # a payload that passed the checks but does not load
            raise ModelRefusedError(f"loading failed: {error!r}") from error
        warm_up(model, spec, sample)
        return model


def warm_up(model: object, spec: DatasetSpec, sample: NDArray[np.float64]) -> None:
    """Predict ``sample`` (with the spec's columns) and check the answer fits the spec's label:
    a classifier of its classes or a regressor, one finite prediction per row."""
    if is_classifier_model(model) != spec.label.is_classifier:
        kind = "classifier" if spec.label.is_classifier else "regressor"
        raise ModelRefusedError(f"warm-up failed: the spec's {spec.label.task} task needs a {kind}")
    try:
        result = predict(model, sample, spec.feature_columns(), classes=spec.label.classes)
    except Exception as error:  # whatever the model raises, it cannot serve
        raise ModelRefusedError(f"warm-up failed: {type(error).__name__}: {error}") from error
    numbers = result.scores if result.scores is not None else result.estimates
    if len(result.predicted) != len(sample) or numbers is None or not np.isfinite(numbers).all():
        raise ModelRefusedError("warm-up failed: predictions missing or not finite")
