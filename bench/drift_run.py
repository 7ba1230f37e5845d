"""What ``bench.drift_recovery`` reads from a demo run's stack before stopping it: the features
as served, the labelled history the system had, version 1's model, and when each champion
version's first prediction was written.

Everything is read after the run, from the topics' beginnings (no consumer group) and from the
store, the way the services read it: the vectors from ``driftloop.features.v1``, the history
from the feature service's offline store (rows with a label, outside the live stream), version
1's artifact from GridFS by the ``artifact_uri`` and digest its promotion announced, verified
with the signing key of the stack's services.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pymongo import ASCENDING, AsyncMongoClient

from bench.runtime_relay import reader
from driftloop_artifacts import GridFSArtifactStore, artifact_id_from_uri, decode_model
from driftloop_artifacts.signing import key_from_secret
from driftloop_cli.demo import DemoResult
from driftloop_cli.local.secrets import local_secrets
from driftloop_contracts import FEATURES_TOPIC, PREDICTIONS_TOPIC, FeaturesComputed, ModelPromoted
from driftloop_modeling import predict
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.broadcast import scan_topic

__all__ = ["RunData", "read_run"]

POSITIVE = True  # the fraud spec's positive class


@dataclass(frozen=True)
class RunData:
    """The run's served features and what the baselines need."""

    names: list[str]  # feature names, the matrices' columns
    positions: NDArray[np.int64]  # live positions that have a vector, in stream order
    matrix: NDArray[np.float64]  # their vectors, row by row
    history: tuple[NDArray[np.float64], NDArray[np.bool_]]  # labelled rows before the stream
    first_model_scores: NDArray[np.float64]  # version 1's fraud score of each vector
    first_prediction_at: dict[int, float]  # champion version -> record timestamp (s)


async def read_run(result: DemoResult) -> RunData:
    """Read the run's stack (it must still run: ``keep_stack=True``)."""
    stack = result.stack
    settings = RuntimeSettings(kafka_bootstrap=stack.bootstrap_servers, mongo_uri=stack.mongo_uri)
    live = {event.event_id: event.position for event in result.stream}
    names, by_position = await _vectors(settings, live)
    positions = np.array(sorted(by_position), dtype=np.int64)
    matrix = np.array([by_position[int(p)] for p in positions], dtype=np.float64)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_uri)
    try:
        database = client[stack.database]
        history = await _history(database, names, live)
        model = await _first_model(database, result, stack.home)
    finally:
        await client.close()
    scores = predict(model, matrix, names, classes=[False, True]).scores
    assert scores is not None  # a classifier's prediction has scores
    return RunData(
        names,
        positions,
        matrix,
        history,
        scores[:, 1],
        await _first_predictions({"bootstrap_servers": stack.bootstrap_servers}),
    )


async def _vectors(
    settings: RuntimeSettings, live: dict[str, int]
) -> tuple[list[str], dict[int, list[float]]]:
    """The first vector served for each live event, by position, and the feature names."""
    names: list[str] = []
    by_position: dict[int, list[float]] = {}
    async for chunk in scan_topic(settings, FEATURES_TOPIC, FeaturesComputed):
        for item in chunk:
            vector = item.event
            position = live.get(vector.subject_event_id)
            if position is not None and position not in by_position:
                names = names or list(vector.feature_names)
                by_position[position] = list(vector.values)
    return names, by_position


async def _history(
    database: Any, names: Sequence[str], live: dict[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The offline store's labelled rows outside the live stream, oldest first: the history
    the first model was trained from."""
    query = {"label": {"$ne": None}, "feature_names": list(names)}
    cursor = database["offline_rows"].find(
        query, {"_id": False, "subject_event_id": True, "label": True, "values": True}
    )
    rows = [
        r
        for r in await cursor.sort("occurred_at", ASCENDING).to_list()
        if r["subject_event_id"] not in live
    ]
    matrix = np.array([r["values"] for r in rows], dtype=np.float64).reshape(-1, len(names))
    return matrix, np.array([r["label"] is True for r in rows], dtype=np.bool_)


async def _first_model(database: Any, result: DemoResult, home: Any) -> Any:
    """Version 1 as the scorer loads it: downloaded by its URI, digest and signature checked."""
    promoted = next(
        (
            item.event
            for item in result.of_kind("promoted")
            if isinstance(item.event, ModelPromoted) and item.event.version == 1
        ),
        None,
    )
    if promoted is None or promoted.artifact_uri is None:
        raise RuntimeError("the run saw no promotion of version 1 with its artifact")
    artifact = await GridFSArtifactStore(database).get(artifact_id_from_uri(promoted.artifact_uri))
    key = key_from_secret(local_secrets(home / "secrets.json").signing_key)
    return decode_model(artifact, signing_key=key, expected_sha256=promoted.artifact_sha256)


async def _first_predictions(options: dict[str, Any]) -> dict[int, float]:
    """The record timestamp of each champion version's first prediction (any event)."""
    first: dict[int, float] = {}
    async with reader(options, [PREDICTIONS_TOPIC]) as consumer:
        while batches := await consumer.getmany(timeout_ms=1_000, max_records=5_000):
            for records in batches.values():
                for record in records:
                    made = json.loads(record.value)
                    if made.get("shadow"):
                        continue
                    version, stamp = int(made["model_version"]), record.timestamp / 1000
                    first[version] = min(first.get(version, stamp), stamp)
    return first
