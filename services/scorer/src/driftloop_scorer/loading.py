"""Loading a model version: download, verify, warm up. A version that fails any step is refused.

Decoding and the warm-up run in a worker thread, so batches keep being scored with the models
in place while a new one loads.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from opentelemetry import trace
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from driftloop_artifacts import (
    Artifact,
    ArtifactError,
    ArtifactStore,
    artifact_id_from_uri,
    decode_model,
    sha256_hex,
)
from driftloop_modeling import is_classifier_model, predict
from driftloop_runtime import ServedVersion, SpecCatalog
from driftloop_scorer.serving import ServedModel
from driftloop_spec import DatasetSpec

__all__ = ["ModelLoader", "ModelRefusedError", "warm_up"]

tracer = trace.get_tracer("driftloop.scorer")

MODELS_KEPT = 4
"""Verified models kept by digest for swapping back (about two datasets' champion and shadow)."""

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
        model_threads: int = 1,
        catch_up: CatchUp | None = None,
    ) -> None:
        self._store = store
        self._catch_up = catch_up
        self._specs = specs
        self._key = signing_key
        self._rows = warmup_rows
        self._threads = model_threads
        # Recently verified models by digest: a shadow promoted to champion, or a rollback to
        # the version that served before, swaps without decoding again (skops rebuilds a
        # 200-tree gradient boosting model in 0.15-0.6 s); the download is still checked.
        self._decoded: OrderedDict[str, object] = OrderedDict()
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
        columns = list(spec.feature_columns())
        sample = self._sample(version.dataset, columns)
        if sample is None:
            sample = np.zeros((self._rows, len(columns)))
        with tracer.start_as_current_span("download"):
            artifact = await self._download(version)
        # the stored bytes are checked on every swap, so a tampered store is noticed even for
        # a version decoded before
        model = self._decoded.get(version.artifact_sha256) if _intact(artifact, version) else None
        if model is None:
            model = await asyncio.to_thread(self._verified, artifact, version)
        await asyncio.to_thread(self._warmed_up, model, spec, sample[-self._rows :])
        self._remember(version.artifact_sha256, model)
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

    def _verified(self, artifact: Artifact, version: ServedVersion) -> object:
        try:
            with tracer.start_as_current_span("verify"):
                model = decode_model(
                    artifact, signing_key=self._key, expected_sha256=version.artifact_sha256
                )
        except ArtifactError as error:
            raise ModelRefusedError(f"verification failed: {error}") from error
        except Exception as error:  # a payload that passed the checks but does not load
            raise ModelRefusedError(f"loading failed: {error!r}") from error
        return model

    def _warmed_up(self, model: object, spec: DatasetSpec, sample: NDArray[np.float64]) -> None:
        # with the thread limit batches are scored with: the default (a thread per core)
        # competes with the event loop, and warms up a pool that never serves
        with (
            tracer.start_as_current_span("warm_up"),
            ThreadpoolController().limit(limits=self._threads),
        ):
            warm_up(model, spec, sample)

    def _remember(self, sha256: str, model: object) -> None:
        self._decoded[sha256] = model
        self._decoded.move_to_end(sha256)
        while len(self._decoded) > MODELS_KEPT:
            self._decoded.popitem(last=False)


def _intact(artifact: Artifact, version: ServedVersion) -> bool:
    """Whether the downloaded payload is the one the lifecycle event names."""
    digest = sha256_hex(artifact.payload)
    return digest == artifact.sha256 == version.artifact_sha256.lower()


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
