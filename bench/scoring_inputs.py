"""What ``bench.scoring`` feeds the scorer: feature vectors of the simulated card stream, as the
feature service publishes them, and models of the fraud spec's estimator, stored and promoted
as the trainer and the registry would."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pymongo import AsyncMongoClient

from driftloop_artifacts import GridFSArtifactStore, StoredArtifact, encode_model
from driftloop_cli.simulation import Transaction
from driftloop_contracts import DATA_VALIDATED_TOPIC, FeaturesComputed, ModelPromoted
from driftloop_features import EntityWindows, compute_features
from driftloop_spec import DatasetSpec, resolve_estimator

__all__ = ["TrainedModel", "Vectors", "promotion", "store_model", "train", "vectors"]

SAMPLE = 0.9  # share of the training rows each version is fitted on (each its own draw)


@dataclass(frozen=True)
class Vectors:
    """The feature vectors of a run of transactions, as a matrix and as events."""

    matrix: NDArray[np.float64]
    labels: NDArray[np.bool_]  # the simulator's truth (is_fraud)
    events: list[FeaturesComputed]


def vectors(
    spec: DatasetSpec, spec_version: int, stream: Sequence[Transaction], windows: EntityWindows
) -> Vectors:
    """The spec's features of ``stream`` (continuing ``windows``), one ``FeaturesComputed`` per
    transaction with the fields the feature service fills."""
    batch = compute_features(spec, [t.event for t in stream], windows)
    columns = list(batch.columns)
    events = [
        FeaturesComputed(
            event_id=f"features:{t.event.event_id}",
            occurred_at=t.event.occurred_at,
            producer="feature",
            causation_id=f"validated:{t.event.event_id}",
            dataset=t.event.dataset,
            entity_id=t.event.entity_id,
            subject_event_id=t.event.event_id,
            spec_version=spec_version,
            feature_names=columns,
            values=row,
            source_topic=DATA_VALIDATED_TOPIC,
            source_partition=0,
            source_offset=offset,
        )
        for offset, (t, row) in enumerate(zip(stream, batch.values.tolist(), strict=True))
    ]
    labels = np.array([t.is_fraud for t in stream], dtype=np.bool_)
    return Vectors(batch.values, labels, events)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model of one version and how long the fit took."""

    version: int
    model: Any
    fit_seconds: float


def train(spec: DatasetSpec, rows: Vectors, version: int) -> TrainedModel:
    """The spec's estimator fitted on a draw of ``rows`` (seeded by ``version``, so every
    version is a different model), on a numpy matrix as the trainer fits it."""
    rng = np.random.default_rng(version)
    chosen = rng.random(len(rows.labels)) < SAMPLE
    model = resolve_estimator(spec.model)
    if "random_state" in model.get_params():
        model.set_params(random_state=version)
    began = time.perf_counter()
    model.fit(rows.matrix[chosen], rows.labels[chosen])
    return TrainedModel(version, model, time.perf_counter() - began)


async def store_model(uri: str, database: str, name: str, trained: TrainedModel) -> StoredArtifact:
    """Encode the model (skops) and put it into the database's GridFS, as the registry does."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        store = GridFSArtifactStore(client[database])
        return await store.put(encode_model(trained.model), name=name, version=trained.version)
    finally:
        await client.close()


def promotion(
    dataset: str, name: str, version: int, stored: StoredArtifact, previous: int | None
) -> ModelPromoted:
    """``version`` promoted to champion now, as the registry announces it."""
    return ModelPromoted(
        event_id=f"model.promoted:{dataset}:{version}:champion",
        occurred_at=datetime.now(UTC),
        producer="registry",
        dataset=dataset,
        model_name=name,
        version=version,
        artifact_sha256=stored.sha256,
        artifact_uri=stored.uri,
        actor="bench",
        reason=f"bench.scoring: version {version} takes over",
        alias="champion",
        previous_version=previous,
    )
