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
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pymongo import AsyncMongoClient

from bench.runtime_relay import reader
from driftloop_artifacts import GridFSArtifactStore, artifact_id_from_uri, decode_model
from driftloop_artifacts.signing import key_from_secret
from driftloop_cli.demo import DemoResult
from driftloop_cli.local.secrets import local_secrets
from driftloop_contracts import (
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PREDICTIONS_TOPIC,
    FeaturesComputed,
    ModelPromoted,
)
from driftloop_modeling import predict
from driftloop_offline import LABEL, SUBJECT, LabelJoin, OfflineReader
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.broadcast import scan_topic
from driftloop_spec import DatasetSpec, load_spec

__all__ = ["RunData", "read_run"]

POSITIVE = True  # the fraud spec's positive class
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the history is read from the store's first row
EVERY_ROW = 10_000_000  # no cap: the whole history


@dataclass(frozen=True)
class RunData:
    """The run's served features and what the baselines need."""

    names: list[str]  # feature names, the matrices' columns
    positions: NDArray[np.int64]  # live positions that have a vector, in stream order
    matrix: NDArray[np.float64]  # their vectors, row by row
    history: tuple[NDArray[np.float64], NDArray[np.bool_]]  # labelled rows before the stream
    first_model_scores: NDArray[np.float64]  # version 1's fraud score of each vector
    first_prediction_at: dict[int, float]  # champion version -> record timestamp (s)
    label_lag_s: NDArray[np.float64]  # each live label: validated on its topic -> stored offline


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
        spec = load_spec(result.options.spec)
        history = await _history(database, spec, names, live)
        model = await _first_model(database, result, stack.home)
        arrivals = await OfflineReader(database, max_rows=1).label_arrivals(spec.name)
    finally:
        await client.close()
    scores = predict(model, matrix, names, classes=[False, True]).scores
    assert scores is not None  # a classifier's prediction has scores
    options = {"bootstrap_servers": stack.bootstrap_servers}
    return RunData(
        names,
        positions,
        matrix,
        history,
        scores[:, 1],
        await _first_predictions(options),
        await _label_lags(options, arrivals),
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
    database: Any, spec: DatasetSpec, names: Sequence[str], live: dict[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The offline store's labelled rows outside the live stream, oldest first, each with the
    label the trainer would join to it: the history the first model was trained from."""
    store = OfflineReader(database, max_rows=EVERY_ROW)
    newest = await store.newest_row_time(spec.name)
    if newest is None:
        return np.empty((0, len(names)), dtype=np.float64), np.empty(0, dtype=np.bool_)
    stored = await store.window(spec.name, names, LabelJoin.of(spec.lateness), newest - EPOCH)
    rows = stored[~stored[SUBJECT].isin(live)]
    matrix = rows[list(names)].to_numpy(dtype=np.float64)
    return matrix, np.array([label is True for label in rows[LABEL]], dtype=np.bool_)


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


async def _label_lags(
    options: dict[str, Any], arrivals: dict[str, datetime]
) -> NDArray[np.float64]:
    """For each validated outcome, the seconds from its record on the topic to its bucket in
    the offline store: how far the labels writer trailed the stream."""
    lags: list[float] = []
    async with reader(options, [OUTCOMES_VALIDATED_TOPIC]) as consumer:
        while batches := await consumer.getmany(timeout_ms=1_000, max_records=5_000):
            for records in batches.values():
                for record in records:
                    stored = arrivals.get(json.loads(record.value)["event_id"])
                    if stored is not None:
                        lags.append(stored.timestamp() - record.timestamp / 1000)
    return np.array(lags, dtype=np.float64)


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
